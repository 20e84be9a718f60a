#!/usr/bin/env bash
# Cost of the bio collector: fio 4 KiB O_DIRECT random reads on a private
# loop device (psync, iodepth 1) untraced, under `disco record -e bio` and
# under libbpf-tools' biolatency, interleaved, median of ROUNDS runs each.
# Each round runs every mode once, back to back; besides the medians of
# IOPS it prints the median of each round's ratio to that round's untraced
# run, which cancels the slow drift of this host's IO speed (runs of one
# mode spread by 20-40% over minutes, more than the effect measured).
# usage: tests/bench/bio.sh   (env: RUNTIME=10 ROUNDS=3 DISCO=./disco
#                              MODES="untraced empty disco disco-exact disco-nostats biolatency")
# empty: the collector's default hooks with empty programs (the floor).
set -u
cd "$(dirname "$0")/../.."
DISCO=${DISCO:-$PWD/disco}
RUNTIME=${RUNTIME:-10}
ROUNDS=${ROUNDS:-3}
BIOLAT=/usr/sbin/biolatency

[ "$(id -u)" = 0 ] || { echo "bio bench: needs root" >&2; exit 77; }
for t in fio jq losetup "$DISCO"; do
	command -v "$t" >/dev/null || { echo "bio bench: missing $t" >&2; exit 77; }
done

T=$(mktemp -d /tmp/disco-bench-bio.XXXXXX)
L=""
BG=""
cleanup() {
	[ -n "$BG" ] && kill "$BG" 2>/dev/null && wait "$BG" 2>/dev/null
	[ -n "$L" ] && losetup -d "$L"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

truncate -s 256M "$T/img"
L=$(losetup -f --show "$T/img") || exit 1
N=${L#/dev/}
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing

# Start a tracer in the background; return once it says it is attached.
start_bg() {
	local ready=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	BG=$!
	for _ in $(seq 300); do
		grep -q "$ready" "$log" && return 0
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.1
	done
	echo "bio bench: tracer did not start: $*" >&2
	cat "$log" >&2
	exit 1
}

stop_bg() {
	kill -INT "$BG"
	wait "$BG"
	BG=""
}

fio_iops() {
	fio --name=randread --filename="$L" --rw=randread --bs=4k --direct=1 \
		--ioengine=psync --iodepth=1 --numjobs=1 --time_based --runtime="$RUNTIME" \
		--output-format=json >"$T/fio.json" 2>"$T/fio.err" || { cat "$T/fio.err" >&2; exit 1; }
	jq -r '.jobs[0].read.iops | floor' "$T/fio.json"
}

run() {
	case $1 in
	untraced)
		fio_iops;;
	empty)
		start_bg attached "$T/empty.log" "$T/empty_hooks" "$T/bio_empty.bpf.o"
		fio_iops
		kill "$BG"
		wait "$BG" 2>/dev/null
		BG="";;
	disco|disco-exact|disco-nostats)
		# disco's extra options per mode
		local extra=""
		[ "$1" = disco-exact ] && extra=--exact-owner
		[ "$1" = disco-nostats ] && extra="--bpf-stats off"
		start_bg "recording to" "$T/disco.log" "$DISCO" record -e bio --disk "$N" \
			$extra -d 3600 -f -o "$T/bench.data"
		fio_iops
		stop_bg;;
	biolatency)
		start_bg "Tracing" "$T/bl.log" stdbuf -oL "$BIOLAT" -d "$N"
		fio_iops
		stop_bg;;
	esac
}

modes="untraced disco"
[ -x "$BIOLAT" ] && modes="$modes biolatency"
modes=${MODES:-$modes}
. tests/bench/floor_lib.sh
case " $modes " in *" empty "*) build_floor bio "$T";; esac
declare -A res rat
for r in $(seq "$ROUNDS"); do
	for m in $modes; do
		v=$(run "$m") && [ -n "$v" ] || { echo "bio bench: $m run failed" >&2; exit 1; }
		res[$m]="${res[$m]:-} $v"
		[ "$m" = untraced ] && base_r=$v
		rat[$m]="${rat[$m]:-} $(awk -v a="$v" -v b="${base_r:-0}" 'BEGIN{printf "%.4f", b ? a / b : 0}')"
		echo "round $r: $m $v IOPS" >&2
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END{print a[int((NR + 1) / 2)]}'; }
base=$(echo "${res[untraced]}" | median)
printf '\nfio randread 4k O_DIRECT psync iodepth=1 on %s, %ss x %s rounds (median)\n' "$N" "$RUNTIME" "$ROUNDS"
printf '%-14s %10s %9s %12s   %s\n' MODE IOPS RATIO PAIRED RUNS
for m in $modes; do
	med=$(echo "${res[$m]}" | median)
	printf '%-14s %10s %8.1f%% %11.1f%%  %s\n' "$m" "$med" \
		"$(awk -v a="$med" -v b="$base" 'BEGIN{print b ? 100 * a / b : 0}')" \
		"$(echo "${rat[$m]}" | median | awk '{print 100 * $1}')" "${res[$m]# }"
done
echo "RATIO: median IOPS over the untraced median; PAIRED: median of each round's ratio to its own untraced run"

