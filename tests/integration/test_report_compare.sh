#!/usr/bin/env bash
# disco report --compare: the same victim recorded alone, then behind three
# CPU hogs on its CPU: run-queue latency is reported slower, with a positive
# change beyond the noise, in text, JSON and HTML; and faster the other way.
. "$(dirname "$0")/lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"

victim() {
	"$DISCO" record -q -e sched -o "$T/$1.data" -- taskset -c 1 "$FIXTURES/sched_load" victim 4 "$T/$1.txt" ||
		fail "record $1"
}
victim before
for _ in 1 2 3; do
	taskset -c 1 "$FIXTURES/sched_load" hog 12 &
	on_exit "kill $! 2>/dev/null"
done
victim after

"$DISCO" report --compare "$T/before.data" "$T/after.data" --format json > "$T/c.json" ||
	fail "report --compare --format json"
jqv "$T/c.json" '.schema == "disco.compare/1"' > /dev/null
r='.collectors.sched.runq_latency'
echo "runq p50: $(jq -c "$r.percentiles.p50" "$T/c.json")"
assert_eq "verdict" "$(jq -r "$r.verdict" "$T/c.json")" slower
jqv "$T/c.json" "$r.percentiles.p50.change_ratio > 0 and $r.percentiles.p50.beyond_noise" > /dev/null
"$DISCO" report --compare "$T/after.data" "$T/before.data" --format json > "$T/r.json" || fail "reversed"
assert_eq "verdict reversed" "$(jq -r "$r.verdict" "$T/r.json")" faster

"$DISCO" report --compare "$T/before.data" "$T/after.data" > "$T/c.txt" || fail "report --compare (text)"
grep -q '^  runq_latency: slower' "$T/c.txt" || fail "text: $(cat "$T/c.txt")"
grep -Eq '^    p50 .*\+[0-9.]+% \*$' "$T/c.txt" || fail "text: p50 change not marked beyond noise"
"$DISCO" report --compare "$T/before.data" "$T/after.data" --format html > "$T/c.html" || fail "html"
grep -q '<td class="s slower">slower</td>' "$T/c.html" || fail "html without the verdict"
if grep -Eq '<script|https?://' "$T/c.html"; then fail "html not self-contained"; fi

# usage: two files, and a format it writes
"$DISCO" report --compare "$T/before.data" 2>/dev/null
assert_eq "exit status with one file" "$?" 2
"$DISCO" report --compare "$T/before.data" "$T/after.data" --format prometheus 2>/dev/null
assert_eq "exit status with --format prometheus" "$?" 2
exit 0
