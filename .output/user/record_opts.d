.output/user/record_opts.o: user/record_opts.c user/cmd.h user/log.h \
 user/record_opts.h user/collector.h user/probe.h
user/cmd.h:
user/log.h:
user/record_opts.h:
user/collector.h:
user/probe.h:
