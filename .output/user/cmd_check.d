.output/user/cmd_check.o: user/cmd_check.c user/cmd.h user/collector.h \
 user/probe.h user/log.h
user/cmd.h:
user/collector.h:
user/probe.h:
user/log.h:
