.output/user/collector.o: user/collector.c user/collector.h user/probe.h \
 user/log.h
user/collector.h:
user/probe.h:
user/log.h:
