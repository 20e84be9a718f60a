.output/tests/test_cli: tests/unit/test_cli.c user/cmd.h \
 user/record_opts.h user/collector.h user/probe.h
user/cmd.h:
user/record_opts.h:
user/collector.h:
user/probe.h:
