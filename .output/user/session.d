.output/user/session.o: user/session.c user/session.h
user/session.h:
