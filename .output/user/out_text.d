.output/user/out_text.o: user/out_text.c user/collector.h user/probe.h \
 user/hist.h bpf/hist.h
user/collector.h:
user/probe.h:
user/hist.h:
bpf/hist.h:
