#!/usr/bin/env bash
# report --format pprof read by the reference reader, `go tool pprof`: the
# cpu fixture's profile names hot_three_quarters and cold_one_quarter, its
# samples add up to the session's sample total and split 75/25 (+-5
# points), its binary's mapping has the binary's build-id; an offcpu profile's blocked time adds up to the JSON report's
# blocked_ns; a session without stack collectors is refused in one line
# (exit 1), and so is a terminal as the output (exit 2).
. "$(dirname "$0")/lib.sh"
need_root
command -v go >/dev/null || fail "needs go for go tool pprof (make deps installs golang-go)"
F=$FIXTURES/stack_fixture
# go keeps a cache under HOME; keep it in the test's directory
pprof() { HOME=$T GOCACHE=$T/gocache GOFLAGS= go tool pprof "$@"; }

# pprof -raw: "Samples:" lines "V1 V2: LOC..." with label lines after them,
# then "Locations" lines "ID: ADDR M=N FUNC ...". Prints, per value column,
# the total, then the share of sample 0's total on stacks through each of
# the functions given.
raw_totals() {
	python3 - "$@" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
funcs = sys.argv[2:]
samples = re.search(r"^Samples:\n.*?\n(.*?)^Locations\n", text, re.S | re.M).group(1)
locs = re.search(r"^Locations\n(.*?)^Mappings\n", text, re.S | re.M).group(1)
name = {}
for l in locs.splitlines():
    m = re.match(r"\s*(\d+): 0x[0-9a-f]+ (?:M=\d+ )?(\S+)", l)
    if m:
        name[m.group(1)] = m.group(2)
tot, through = None, {f: 0 for f in funcs}
for l in samples.splitlines():
    m = re.match(r"\s*([\d ]+): ([\d ]*)$", l)
    if not m:
        continue
    vals = [int(v) for v in m.group(1).split()]
    tot = vals if tot is None else [a + b for a, b in zip(tot, vals)]
    fns = {name[i] for i in m.group(2).split()}
    for f in funcs:
        if f in fns:
            through[f] += vals[0]
print(" ".join(str(v) for v in tot))
for f in funcs:
    print(f, round(100.0 * through[f] / tot[0], 1))
PY
}

"$DISCO" record -e cpu -F 499 -q -o "$T/c.data" -- "$F" cpu 4 || fail "record -e cpu failed"
"$DISCO" report "$T/c.data" --format pprof > "$T/c.pb.gz" || fail "report --format pprof failed"
[ "$(head -c 2 "$T/c.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] || fail "not a gzip file"
pprof -raw "$T/c.pb.gz" > "$T/c.raw" 2> "$T/c.err" || fail "go tool pprof -raw: $(cat "$T/c.err")"
[ -s "$T/c.err" ] && fail "go tool pprof complained: $(cat "$T/c.err")"
grep -q '^samples/count cpu/nanoseconds\[dflt\]$' "$T/c.raw" || fail "sample types: $(sed -n 6,7p "$T/c.raw")"
raw_totals "$T/c.raw" hot_three_quarters cold_one_quarter > "$T/c.tot" || fail "cannot parse pprof -raw"
read -r n ns < "$T/c.tot"
hot=$(awk '$1 == "hot_three_quarters" { print $2 }' "$T/c.tot")
cold=$(awk '$1 == "cold_one_quarter" { print $2 }' "$T/c.tot")
"$DISCO" report "$T/c.data" --format json > "$T/c.json" || fail "report --format json failed"
samples=$(jq '.collectors.cpu.samples' "$T/c.json")
hz=$(jq '.collectors.cpu.frequency_hz' "$T/c.json")
echo "pprof: $n samples ($samples in the session), $ns ns of cpu; hot_three_quarters ${hot}%, cold_one_quarter ${cold}%"
assert_eq "samples in the profile" "$n" "$samples"
assert_eq "cpu ns in the profile" "$ns" "$(( samples * (1000000000 / hz) ))"
assert_ge "samples" "$n" 200
# the fixture is nearly all of the samples: its split holds over the whole profile
assert_ge "hot share" "$hot" 70
assert_le "hot share" "$hot" 80
assert_ge "cold share" "$cold" 20
assert_le "cold share" "$cold" 30
pprof -top "$T/c.pb.gz" > "$T/c.top" 2>/dev/null || fail "go tool pprof -top failed"
for fn in hot_three_quarters cold_one_quarter main; do
	grep -qE " $fn\$" "$T/c.top" || fail "pprof -top lacks $fn: $(cat "$T/c.top")"
done
# the fixture's mapping carries its build-id (what pprof matches binaries by)
bid=$(readelf -n "$F" | awk '/Build ID/ { print $3 }')
[ -n "$bid" ] || fail "fixture has no build-id"
grep -qE "^[0-9]+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ stack_fixture $bid " "$T/c.raw" ||
	fail "the stack_fixture mapping lacks build-id $bid: $(sed -n '/^Mappings/,$p' "$T/c.raw")"
# the labels: every fixture sample has its comm and pid
pprof -tags "$T/c.pb.gz" > "$T/c.tags" 2>/dev/null || fail "go tool pprof -tags failed"
grep -q 'stack_fixture' "$T/c.tags" || fail "no comm label: $(cat "$T/c.tags")"
grep -q '^ *pid:' "$T/c.tags" || fail "no pid label: $(cat "$T/c.tags")"

# offcpu: the blocked time of the profile is the report's
"$DISCO" record -e offcpu -q -o "$T/o.data" -- "$F" sleep 20 15 > /dev/null || fail "record -e offcpu failed"
"$DISCO" report "$T/o.data" --format pprof > "$T/o.pb.gz" || fail "report --format pprof (offcpu) failed"
pprof -raw "$T/o.pb.gz" > "$T/o.raw" 2>/dev/null || fail "go tool pprof -raw (offcpu) failed"
raw_totals "$T/o.raw" nap_in_nanosleep > "$T/o.tot" || fail "cannot parse pprof -raw (offcpu)"
read -r blocks bns < "$T/o.tot"
"$DISCO" report "$T/o.data" --format json > "$T/o.json" || fail "report --format json (offcpu) failed"
want=$(jq '.collectors.offcpu.blocked_ns' "$T/o.json")
want_blocks=$(jq '[.collectors.offcpu.stacks[].count] | add' "$T/o.json")
echo "pprof offcpu: $blocks blocks, $bns ns blocked (report: $want_blocks blocks, $want ns)"
assert_eq "blocked ns in the profile" "$bns" "$want"
assert_eq "blocks in the profile" "$blocks" "$want_blocks"
assert_ge "blocks" "$blocks" 1
grep -q '^blocks/count blocked/nanoseconds\[dflt\]$' "$T/o.raw" || fail "offcpu sample types"
grep -q ' nap_in_nanosleep ' "$T/o.raw" || fail "offcpu profile lacks nap_in_nanosleep"

# a session without stacks: one line, exit 1, nothing written
"$DISCO" record -e sched -q -d 1 -o "$T/s.data" || fail "record -e sched failed"
"$DISCO" report "$T/s.data" --format pprof > "$T/s.out" 2> "$T/s.err"
assert_eq "pprof of a session without stacks exits" "$?" 1
assert_eq "lines said" "$(wc -l < "$T/s.err")" 1
grep -q 'no collector with stacks' "$T/s.err" || fail "unclear message: $(cat "$T/s.err")"
assert_eq "bytes written" "$(wc -c < "$T/s.out")" 0
# two stack collectors: choose one, as for folded
"$DISCO" record -e cpu,offcpu -q -o "$T/b.data" -- "$F" cpu 1 || fail "record -e cpu,offcpu failed"
"$DISCO" report "$T/b.data" --format pprof > /dev/null 2> "$T/b.err"
assert_eq "pprof of two stack collectors exits" "$?" 1
grep -q 'choose one with -e' "$T/b.err" || fail "unclear message: $(cat "$T/b.err")"
"$DISCO" report "$T/b.data" --format pprof -e offcpu > "$T/b.pb.gz" || fail "report --format pprof -e offcpu failed"
pprof -raw "$T/b.pb.gz" 2>/dev/null | grep -q '^blocks/count blocked/nanoseconds' || fail "-e offcpu did not pick offcpu"

# a terminal is refused before anything is read
script -qec "$DISCO report $T/c.data --format pprof" /dev/null > "$T/tty.out"
assert_eq "pprof to a terminal exits" "$?" 2
grep -q 'binary file: redirect' "$T/tty.out" || fail "no refusal on a terminal: $(head -c 300 "$T/tty.out")"
echo ok
