.output/tests/test_hist: tests/unit/test_hist.c user/hist.h bpf/hist.h
user/hist.h:
bpf/hist.h:
