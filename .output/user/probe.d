.output/user/probe.o: user/probe.c user/log.h user/probe.h
user/log.h:
user/probe.h:
