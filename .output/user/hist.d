.output/user/hist.o: user/hist.c user/hist.h bpf/hist.h
user/hist.h:
bpf/hist.h:
