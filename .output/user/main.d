.output/user/main.o: user/main.c user/cmd.h user/collector.h user/probe.h \
 user/log.h
user/cmd.h:
user/collector.h:
user/probe.h:
user/log.h:
