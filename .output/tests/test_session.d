.output/tests/test_session: tests/unit/test_session.c user/session.h
user/session.h:
