.output/user/cmd_record.o: user/cmd_record.c user/cmd.h user/collector.h \
 user/probe.h user/log.h user/record_opts.h user/recorder.h user/report.h
user/cmd.h:
user/collector.h:
user/probe.h:
user/log.h:
user/record_opts.h:
user/recorder.h:
user/report.h:
