#!/usr/bin/env bash
# alloc collector, -- COMMAND: the fixture's leak_here() is the top
# outstanding site with exactly 7 blocks of 1000 bytes, its direct caller
# first in the stack; the sites that freed everything have nothing
# outstanding; free's probe sits past its NULL check when proven safe.
. "$(dirname "$0")/lib.sh"
need_root

"$DISCO" record -e alloc --user-only -q -o "$T/a.data" -- "$FIXTURES/alloc_fixture" basic ||
	fail "record failed"
"$DISCO" report "$T/a.data" --format json > "$T/r.json" || fail "report failed"
A=.collectors.alloc

top=$(jqv "$T/r.json" "$A.sites[0].stack[0]")
case $top in leak_here+0x*"(alloc_fixture)") ;; *) fail "top site starts with '$top', not leak_here";; esac
assert_eq "leak_here outstanding blocks" "$(jqv "$T/r.json" "$A.sites[0].outstanding_allocs")" 7
assert_eq "leak_here outstanding bytes" "$(jqv "$T/r.json" "$A.sites[0].outstanding_bytes")" 7000
# the fixture lingers 700 ms: older than the 500 ms default --min-age
assert_eq "leak_here leak candidates" "$(jqv "$T/r.json" "$A.sites[0].leak_allocs")" 7
assert_eq "caller of leak_here" "$(jqv "$T/r.json" "$A.sites[0].stack[1] | startswith(\"main+\")")" true

freed=$(jqv "$T/r.json" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\"))] | length")
assert_eq "freed_here sites" "$freed" 1
assert_eq "freed_here outstanding" "$(jqv "$T/r.json" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\")) | .outstanding_allocs] | add")" 0
assert_eq "freed_here allocations" "$(jqv "$T/r.json" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\")) | .total_allocs] | add")" 50
assert_eq "freed_here frees" "$(jqv "$T/r.json" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\")) | .freed_bytes] | add")" 10000

# free moves past `test rdi,rdi; je` only when the bytes say so
libc=$(jqv "$T/r.json" "$A.targets[0].libc")
off=$(jqv "$T/r.json" "$A.targets[0].probes[] | select(.function == \"free\") | .offset")
va=$(nm -D --defined-only "$libc" | awk '$3 ~ /^free(@|$)/ {print $1; exit}')
bytes=$(objdump -d --start-address=0x$va --stop-address=$((16#$va + 10)) "$libc" |
	awk -F'\t' '/^ +[0-9a-f]+:/ {print $2}' | tr -d ' \n')
case $bytes in
4885ff0f84????????55) assert_eq "free probe offset" "$off" 9;;
*) echo "libc free starts with $bytes: placement '$off' not pinned";;
esac
# the text report names the leak too
"$DISCO" report "$T/a.data" > "$T/r.txt" || fail "text report failed"
grep -q "leak_here+0x" "$T/r.txt" || fail "text report lacks leak_here"
echo "leak_here: 7 x 1000 B outstanding; free probe at +$off"
