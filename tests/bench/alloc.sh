#!/usr/bin/env bash
# Issue 5's measure: what `disco record -e alloc` adds per malloc+free pair,
# beside the naive probe set (uprobe+uretprobe on malloc, uprobe on free, all
# on entries, empty programs) in one run; and the kernel part's cost on a
# file/socket open-close workload (throughput vs untraced).
# The "floor" mode is the cheapest probe set full tracking needs, with empty
# programs: malloc's entry and return, and free where disco places it (read
# from a disco session's placement report). disco minus floor is what the
# collector's own work costs; floor minus none is what the traps cost.
#   N=pairs REPEAT=runs KN=kernel-ops KSAMPLE=n ONLY=user|kernel tests/bench/alloc.sh   (root)
set -u
cd "$(dirname "$0")/../.."
DISCO=${DISCO:-$PWD/disco}
FIX=${FIXTURES:-$PWD/.output/fixtures}/alloc_fixture
N=${N:-200000}
REPEAT=${REPEAT:-3}
KN=${KN:-20000}
W=$(mktemp -d /tmp/disco-bench-alloc.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "alloc bench: needs root" >&2; exit 77; }
[ -x "$DISCO" ] && [ -x "$FIX" ] || { echo "alloc bench: build first (make disco fixtures)" >&2; exit 1; }

# the naive baseline, built here so it stays out of the product
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ivmlinux/x86 -c tests/bench/alloc_naive.bpf.c \
	-o "$W/alloc_naive.bpf.o" && bpftool gen skeleton "$W/alloc_naive.bpf.o" > "$W/alloc_naive.skel.h" &&
	cc -O2 -I"$W" tests/bench/alloc_naive.c -lbpf -lelf -lz -o "$W/alloc_naive" ||
	{ echo "alloc bench: cannot build the naive baseline" >&2; exit 1; }

LIBC=$(ldd "$FIX" | awk '/libc\.so/ {print $3}')
# file offset of a dynamic symbol: through the PT_LOAD holding it
file_off() {
	local va
	va=$(nm -D --defined-only "$LIBC" | awk -v s="$1" '$3 == s || index($3, s "@@") == 1 {print $1; exit}')
	readelf -lW "$LIBC" | while read -r type off vaddr _ fsz _; do
		[ "$type" = LOAD ] || continue
		if (( 16#$va >= vaddr && 16#$va < vaddr + fsz )); then
			printf '0x%x\n' $(( 16#$va - vaddr + off ))
			break
		fi
	done
}
MOFF=$(file_off malloc)
FOFF=$(file_off free)

wait_line() {	# FILE PATTERN: up to 30 s
	local i
	for ((i = 0; i < 300; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "alloc bench: timed out waiting for '$2' in $1" >&2
	cat "$1" >&2
	return 1
}

# run_one MODE WORKLOAD COUNT -> prints the fixture's ns per op
run_one() {
	local mode=$1 work=$2 count=$3 pid tp=0 out
	rm -f "$W/go" "$W/t.err" "$W/t.out"
	"$FIX" --wait-file "$W/go" "$work" "$count" > "$W/f.out" &
	pid=$!
	case $mode in
	none) ;;
	naive|floor)
		mkfifo "$W/hold.$pid"
		"$W/alloc_naive" "$pid" "$LIBC" "$MOFF" \
			$([ "$mode" = floor ] && printf '0x%x' $((FOFF + FREE_PLACED)) || echo "$FOFF") \
			< "$W/hold.$pid" > "$W/t.out" 2>&1 &
		tp=$!
		exec 9> "$W/hold.$pid"
		wait_line "$W/t.out" attached || return 1;;
	disco|disco-entry)
		"$DISCO" record -e alloc --user-only $([ "$mode" = disco-entry ] && echo --probe-entry) \
			-f -o "$W/s.data" -p "$pid" > /dev/null 2> "$W/t.err" &
		tp=$!
		wait_line "$W/t.err" "recording to" || return 1;;
	kernel-empty)
		"$W/empty_hooks" "$W/kmem_empty.bpf.o" > "$W/t.err" 2>&1 &
		tp=$!
		wait_line "$W/t.err" attached || return 1;;
	kernel)
		"$DISCO" record -e alloc --kernel-only --kernel-sample "${KSAMPLE:-0}" -f -o "$W/s.data" > /dev/null 2> "$W/t.err" &
		tp=$!
		wait_line "$W/t.err" "recording to" || return 1;;
	esac
	PIDS+=("$pid")
	touch "$W/go"
	wait "$pid"
	out=$(sed -n 's/^ns_per_[a-z]*=//p' "$W/f.out")
	case $mode in
	naive|floor) exec 9>&-; wait "$tp";;
	none) ;;
	*) kill -INT "$tp"; wait "$tp";;
	esac
	echo "$out"
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

declare -A R
if [ "${ONLY:-user}" != kernel ]; then
# where disco places free's probe in this libc (its placement report)
run_one disco loop 1000 > /dev/null || exit 1
FREE_PLACED=$("$DISCO" report "$W/s.data" --format json |
	jq '[.collectors.alloc.targets[0].probes[] | select(.function == "free") | .offset][0] // 0')
echo "alloc bench: $N malloc(64)/free pairs x $REPEAT runs per mode; libc $LIBC; disco places free's probe at +$FREE_PLACED"
for mode in none naive floor disco-entry disco; do
	vals=""
	for ((r = 0; r < REPEAT; r++)); do
		n=$N
		# the naive and entry sets trap on every free: fewer pairs, same precision
		[ "$mode" = naive ] || [ "$mode" = disco-entry ] && n=$((N / 4))
		v=$(run_one "$mode" loop "$n") || exit 1
		vals+="$v"$'\n'
	done
	R[$mode]=$(printf '%s' "$vals" | median)
done
for mode in none naive floor disco-entry disco; do
	awk -v m="$mode" -v v="${R[$mode]}" -v b="${R[none]}" \
		'BEGIN {printf "  %-12s %10.1f ns/pair   adds %7.2f us/pair\n", m, v, (v - b) / 1000}'
done
awk -v v="${R[disco]}" -v b="${R[none]}" -v nv="${R[naive]}" -v fl="${R[floor]}" 'BEGIN {
	add = (v - b) / 1000
	printf "alloc_user_added_us_per_pair=%.2f (target <= 3.00; naive set %.2f; empty floor set %.2f, of which disco adds %.2f)\n",
		add, (nv - b) / 1000, (fl - b) / 1000, (v - fl) / 1000 }'

fi
[ "${ONLY:-kernel}" = user ] && exit 0
. tests/bench/floor_lib.sh
build_floor kmem "$W"
echo "alloc bench: kernel part, system-wide, $KN open/close ops, outstanding objects sampled 1 in ${KSAMPLE:-0} (0: not tracked)"
for work in files sockets; do
	for mode in none kernel-empty kernel; do
		vals=""
		for ((r = 0; r < REPEAT; r++)); do
			v=$(run_one "$mode" "$work" "$KN") || exit 1
			vals+="$v"$'\n'
		done
		R[$work.$mode]=$(printf '%s' "$vals" | median)
	done
	awk -v w="$work" -v a="${R[$work.none]}" -v b="${R[$work.kernel]}" -v e="${R[$work.kernel-empty]}" \
		'BEGIN {printf "alloc_kernel_%s_throughput_ratio=%.3f (untraced %.0f ns/op, traced %.0f ns/op; target >= 0.95; the same hooks with empty programs %.3f)\n", w, a / b, a, b, a / e}'
done
