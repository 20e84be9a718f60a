.output/user/col_sched.o: user/col_sched.c user/collector.h user/probe.h \
 user/hist.h bpf/hist.h user/log.h bpf/sched.h bpf/hist.h \
 .output/sched.skel.h
user/collector.h:
user/probe.h:
user/hist.h:
bpf/hist.h:
user/log.h:
bpf/sched.h:
bpf/hist.h:
.output/sched.skel.h:
