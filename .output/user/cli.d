.output/user/cli.o: user/cli.c user/cmd.h
user/cmd.h:
