.output/user/cmd_report.o: user/cmd_report.c user/cmd.h user/log.h \
 user/report.h user/collector.h user/probe.h
user/cmd.h:
user/log.h:
user/report.h:
user/collector.h:
user/probe.h:
