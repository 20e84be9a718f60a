.output/user/report.o: user/report.c user/collector.h user/probe.h \
 user/report.h user/session.h
user/collector.h:
user/probe.h:
user/report.h:
user/session.h:
