#!/usr/bin/env bash
# The one option layer, command by command: -j prints JSON on stdout (or is
# refused in one line, exit 2), -q is accepted, an unknown flag and a missing
# value each give one line prefixed "disco CMD:" and exit 2.
. "$(dirname "$0")/lib.sh"
need_root

# usage_error CMD ARGS...: exit 2, exactly one line on stderr, prefixed, nothing on stdout
usage_error() {
	local cmd=$1 rc
	shift
	"$DISCO" "$cmd" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	assert_eq "disco $cmd $* exit status" "$rc" 2
	assert_eq "disco $cmd $* lines on stderr" "$(wc -l <"$T/err")" 1
	grep -q "^disco $cmd: " "$T/err" || fail "disco $cmd $*: not prefixed 'disco $cmd:': $(cat "$T/err")"
	[ -s "$T/out" ] && fail "disco $cmd $*: wrote to stdout"
	cat "$T/err"
}

# json_ok SCHEMA CMD ARGS...: exit 0, stdout one JSON object with that schema
json_ok() {
	local schema=$1 cmd=$2
	shift 2
	"$DISCO" "$cmd" "$@" >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "disco $cmd $* failed"; }
	assert_eq "disco $cmd $* schema" "$(jq -r .schema "$T/out")" "$schema"
}

PORT=$((20000 + RANDOM % 20000))
R=$T/r.data

json_ok disco.check/1 check -j
json_ok disco.report/1 record -j -q -e sched -d 0.5 -o "$R"
json_ok disco.report/1 report -j "$R"
json_ok disco.tune/1 tune -j --no-sample -d 0
json_ok disco.bench/1 bench -j -w alloc -d 0.2 -r 1 --no-latency
"$DISCO" top -j -e sched -n 1 >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "top -j"; }
assert_eq "top -j schema" "$(head -1 "$T/out" | jq -r .schema)" disco.top/1
usage_error serve -j | grep -q "Prometheus" || fail "serve -j: no reason given"

# -q is accepted everywhere
"$DISCO" check -q >"$T/out"; rc=$?
[ "$rc" -le 1 ] && [ ! -s "$T/out" ] || fail "check -q: status $rc or output"
"$DISCO" record -q -e sched -d 0.3 -f -o "$R" >"$T/out" 2>&1 || fail "record -q"
[ -s "$T/out" ] && fail "record -q printed: $(cat "$T/out")"
"$DISCO" report -q "$R" >/dev/null || fail "report -q"
"$DISCO" top -q -e sched -n 1 >/dev/null || fail "top -q"
"$DISCO" serve -q -e sched -d 0.5 --listen "127.0.0.1:$PORT" 2>/dev/null || fail "serve -q"
"$DISCO" tune -q --no-sample -d 0 >/dev/null 2>"$T/err" || fail "tune -q"
grep -q "sampling for" "$T/err" && fail "tune -q still says what it samples"
"$DISCO" bench -q -w alloc -d 0.2 -r 1 --no-latency >"$T/out" 2>&1 || fail "bench -q"
[ -s "$T/out" ] && fail "bench -q printed: $(cat "$T/out")"

# unknown flags and missing values
for cmd in check record report top serve tune bench; do
	usage_error "$cmd" --frobnicate | grep -q "unknown option '--frobnicate'" ||
		fail "$cmd --frobnicate: not named"
done
usage_error record -d | grep -q -- "-d needs a value" || fail "record -d"
usage_error record --output | grep -q -- "--output needs a value" || fail "record --output"
usage_error report --top | grep -q -- "--top needs a value" || fail "report --top"
usage_error top -n | grep -q -- "-n needs a value" || fail "top -n"
usage_error serve --listen | grep -q -- "--listen needs a value" || fail "serve --listen"
usage_error tune --from | grep -q -- "--from needs a value" || fail "tune --from"
usage_error tune -p | grep -q -- "-p needs a value" || fail "tune -p"
usage_error bench -o | grep -q -- "-o needs a value" || fail "bench -o"
usage_error bench -r | grep -q -- "-r needs a value" || fail "bench -r"
usage_error check -x | grep -q "unknown option '-x'" || fail "check -x"

# bench: the old --json FILE still writes FILE, and says it is deprecated
"$DISCO" bench --json "$T/b.json" -w alloc -d 0.2 -r 1 --no-latency >/dev/null 2>"$T/err" ||
	fail "bench --json FILE"
assert_eq "bench --json FILE schema" "$(jq -r .schema "$T/b.json")" disco.bench/1
grep -q "deprecated" "$T/err" || fail "bench --json FILE: no deprecation line"
"$DISCO" bench -o "$T/c.json" -w alloc -d 0.2 -r 1 --no-latency >/dev/null 2>"$T/err" ||
	fail "bench -o FILE"
assert_eq "bench -o FILE schema" "$(jq -r .schema "$T/c.json")" disco.bench/1
grep -q "deprecated" "$T/err" && fail "bench -o FILE called deprecated"
exit 0
