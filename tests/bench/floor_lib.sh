# Sourced by the benches that measure a floor: the collector's hooks with
# empty programs, loaded by empty_hooks.c.
# build_floor NAME DIR: DIR/NAME_empty.bpf.o (from tests/bench/NAME_empty.bpf.c)
# and DIR/empty_hooks; exits the bench if either does not build.
build_floor() {
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ivmlinux/x86 -c "tests/bench/$1_empty.bpf.c" \
		-o "$2/$1_empty.bpf.o" && cc -O2 tests/bench/empty_hooks.c -lbpf -o "$2/empty_hooks" ||
		{ echo "bench: cannot build the empty-hooks floor (tests/bench/$1_empty.bpf.c)" >&2; exit 1; }
}
