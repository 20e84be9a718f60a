# Sourced by the benches that measure a floor: the collector's hooks with
# empty programs, loaded by empty_hooks.c; the paired rounds they share;
# and the namespace the tcp benches churn connections in.
# build_floor NAME DIR: DIR/NAME_empty.bpf.o (from tests/bench/NAME_empty.bpf.c)
# and DIR/empty_hooks; exits the bench if either does not build.
build_floor() {
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ivmlinux/x86 -c "tests/bench/$1_empty.bpf.c" \
		-o "$2/$1_empty.bpf.o" && cc -O2 tests/bench/empty_hooks.c -lbpf -o "$2/empty_hooks" ||
		{ echo "bench: cannot build the empty-hooks floor (tests/bench/$1_empty.bpf.c)" >&2; exit 1; }
}

# churn_netns NS: a fresh network namespace NS (an old one of that name
# deleted: no TIME_WAIT carried over), lo up, the whole port range and
# TIME_WAIT reuse for tcp_peer churn. Its sysctls are its own.
churn_netns() {
	ip netns del "$1" 2>/dev/null || true
	ip netns add "$1"
	ip netns exec "$1" ip link set lo up
	ip netns exec "$1" sysctl -q -w net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# paired_rounds ROUNDS UNIT RAW MODE...: each MODE (a shell function that
# prints one throughput figure) ROUNDS times, interleaved (A B C A B C ...);
# then the median per mode, its ratio to the untraced median, and the
# median of each round's ratio to its own untraced run (paired: cancels
# the host's drift between minutes). RAW collects "mode figure ratio".
paired_rounds() {
	local rounds=$1 unit=$2 raw=$3 i m v b= base med pr
	shift 3
	for ((i = 1; i <= rounds; i++)); do
		for m in "$@"; do
			v=$($m)
			[ "$m" = untraced ] && b=$v
			echo "$m $v $(awk -v a="$v" -v b="${b:-0}" 'BEGIN{printf "%.4f", b ? a / b : 0}')" >> "$raw"
			echo "round $i $m: $v $unit" >&2
		done
	done
	base=$(awk '$1 == "untraced" {print $2}' "$raw" | median)
	printf '%-14s %14s %8s %8s\n' mode "median $unit" ratio paired
	for m in "$@"; do
		med=$(awk -v m="$m" '$1 == m {print $2}' "$raw" | median)
		pr=$(awk -v m="$m" '$1 == m {print $3}' "$raw" | median)
		printf '%-14s %14.0f %7.1f%% %7.1f%%\n' "$m" "$med" "$(echo "$med $base" | awk '{print 100*$1/$2}')" \
			"$(echo "$pr" | awk '{print 100*$1}')"
	done
	echo "ratio: median over the untraced median; paired: median of each round's ratio to its own untraced run"
}
