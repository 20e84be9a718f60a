.output/user/recorder.o: user/recorder.c user/collector.h user/probe.h \
 user/log.h user/recorder.h user/session.h
user/collector.h:
user/probe.h:
user/log.h:
user/recorder.h:
user/session.h:
