#!/usr/bin/env bash
# `make asan`: the integration tests that write and read real sessions of
# every collector (and render them in every format, and tune from them),
# run with the ASan+UBSan disco given as the first argument. Its fixtures
# and libdisco-alloc.so sit beside it. Any sanitizer report fails the run,
# even one whose exit status a test would have accepted. Names after the
# binary run only those tests (e.g. tests/asan.sh .output-asan/disco sched).
set -u
cd "$(dirname "$0")/.."
bin=$(realpath "${1:?usage: tests/asan.sh PATH/TO/SANITIZED/disco}")
logs=$(mktemp -d /tmp/disco-asan.XXXXXX)
export DISCO=$bin FIXTURES=$(dirname "$bin")/fixtures
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
# each collector's own tests (its real numbers), then every format,
# intervals, compare/diff and tune --from over one session of all of them
# (left out: test_intervals times the recorder and test_alloc_kernel races
# its workload against the recorder's start, ASan slows the recorder;
# test_report_compare needs a quiet machine for its baseline, and the
# all-collectors test already compares in every format)
tests="all_collectors_every_format sched system app alloc_preload tcp_lifecycle
	tcp_resets bio_filters cpu_profile offcpu_profile report_formats report_pprof
	untrusted_names record_kill tune_evidence output_paths_refuse_foreign_symlinks"
shift
[ $# -gt 0 ] && tests="$*"
fail=0 start=$(date +%s)
for t in $tests; do
	f=tests/integration/test_$t.sh
	s=$(date +%s)
	bash "$f"
	case $? in
	0) echo "   ok $t ($(( $(date +%s) - s ))s)";;
	77) echo "   skipped $t";;
	*) echo "   FAILED $t"; fail=1;;
	esac
done
if compgen -G "$logs/*" > /dev/null; then
	echo "sanitizer reports:"
	for l in "$logs"/*; do echo "== $l"; head -40 "$l"; done
	fail=1
fi
rm -rf "$logs"
echo "asan: $( [ $fail = 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - start ))s"
exit $fail
