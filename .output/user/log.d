.output/user/log.o: user/log.c user/log.h
user/log.h:
