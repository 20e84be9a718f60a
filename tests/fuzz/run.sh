#!/usr/bin/env bash
# `make fuzz`: seed the targets from real recordings and run each for SECS
# seconds, two at a time (one per CPU). Usage: tests/fuzz/run.sh OUTPUT SECS
#
# Seeds: one session of every collector at once (the all-collectors
# integration test keeps its file), short system-wide sessions of sched,
# system, cpu and offcpu, and the committed version 1 file; fuzz_session
# reads them as they are, fuzz_report in plain form (fuzz_report_seed).
# fuzz_journal gets the journal of a tune --apply on the fixture tree.
# Files the fuzzer adds go to OUTPUT/fuzz/corpus/NAME, kept between runs.
# Prints, per target, executions and the corpus it ended with; a crash,
# a sanitizer report or a leak fails the run (the input is kept as
# OUTPUT/fuzz/crash-NAME-*).
set -u
cd "$(dirname "$0")/../.."
out=${1:?usage: tests/fuzz/run.sh OUTPUT SECS}
secs=${2:?usage: tests/fuzz/run.sh OUTPUT SECS}
fz=$out/fuzz
seeds=$fz/seeds
rm -rf "$seeds"
mkdir -p "$seeds/session" "$seeds/report"

if [ "$(id -u)" = 0 ]; then
	KEEP_SESSION=$PWD/$seeds/session/all.data bash tests/integration/test_all_collectors_every_format.sh ||
		echo "fuzz: the all-collectors session failed; seeding without it" >&2
	for c in sched system cpu offcpu; do
		./disco record -e "$c" -q -d 1 -o "$seeds/session/$c.data" > /dev/null ||
			echo "fuzz: no $c seed session" >&2
	done
else
	echo "fuzz: not root: no recorded seeds, the committed session only" >&2
fi
cp tests/data/session/v1-all.session tests/data/session/v2-cmd.session \
	tests/data/session/v6-cmd.session "$seeds/session/"
# a journal as tune --apply writes it, on a copy of the fixture tree
mkdir -p "$seeds/journal" "$seeds/root"
cp -a tests/data/tune/numa2/. "$seeds/root/"
echo 2500 > "$seeds/root/proc/sys/fs/file-max"	# 83% used: a file-max change
./disco tune --root "$PWD/$seeds/root" -d 0 --no-sample --apply --journal "$seeds/journal/apply.json" \
	> /dev/null || echo "fuzz: no journal seed" >&2
rm -rf "$seeds/root"
for f in "$seeds"/session/*; do
	"$fz/fuzz_report_seed" "$f" "$seeds/report/$(basename "$f")" || exit 1
done
# a system-wide summary with every stack can pass 700 KB: such a seed
# would set libFuzzer's input size limit and slow every run twentyfold
find "$seeds/report" -size +128k -delete

# NAME -> its seed directory (none: the fuzzer starts from nothing)
seed_dir() {
	case $1 in
	fuzz_session) echo "$seeds/session";;
	fuzz_report) echo "$seeds/report";;
	fuzz_journal) echo "$seeds/journal";;
	*) [ -d "tests/fuzz/corpus/${1#fuzz_}" ] && echo "tests/fuzz/corpus/${1#fuzz_}";;
	esac
}

run_one() { # NAME
	local n=$1 corpus=$fz/corpus/$1 sd
	sd=$(seed_dir "$n")
	mkdir -p "$corpus"
	# no malloc fill, a small quarantine and short allocation stacks: twice
	# the executions a second, the same checks
	ASAN_OPTIONS=detect_leaks=1:max_malloc_fill_size=0:quarantine_size_mb=8:malloc_context_size=5 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$fz/$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$fz/crash-$n-" "$corpus" $sd > "$fz/$n.log" 2>&1
}

targets=$(cd "$fz" && ls fuzz_* | grep -v -e '\.log$' -e '^fuzz_report_seed$')
set -- $targets
fail=0
while [ $# -gt 0 ]; do
	pids=()
	for n in "${@:1:2}"; do
		run_one "$n" &
		pids+=($!)
	done
	i=0
	for n in "${@:1:2}"; do
		if ! wait "${pids[i]}"; then
			echo "fuzz: $n FAILED:" >&2
			grep -A30 -m1 -e 'ERROR:' -e 'runtime error' -e 'deadly signal' "$fz/$n.log" >&2
			fail=1
		fi
		i=$((i + 1))
	done
	shift $(( $# < 2 ? $# : 2 ))
done

for n in $targets; do
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fz/$n.log")
	sd=$(seed_dir "$n")
	printf '%-16s %10s execs in %ss, corpus %5d files %8d bytes (seeds %d files %d bytes)\n' "$n" \
		"${execs:-?}" "$secs" "$(ls "$fz/corpus/$n" | wc -l)" "$(cat "$fz/corpus/$n"/* 2>/dev/null | wc -c)" \
		"$( [ -n "$sd" ] && ls "$sd" | wc -l || echo 0)" "$( [ -n "$sd" ] && cat "$sd"/* | wc -c || echo 0)"
done
exit $fail
