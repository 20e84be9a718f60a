#!/usr/bin/env bash
# alloc collector, -- COMMAND, exact (--alloc-sample-bytes 1) through the
# preload library and through libc uprobes (--libc-uprobes): the fixture's
# leak_here() is the top outstanding site with exactly 7 blocks of 1000
# bytes, its direct caller first in the stack; the sites that freed
# everything have nothing outstanding; on the libc path free's probe sits
# past its NULL check when proven safe. preload-1slot: the preload path
# with one slot in its direct-mapped block table (DISCO_ALLOC_SLOTS=1), so
# that almost every block goes to the fallback hash, mixed with the slot.
. "$(dirname "$0")/lib.sh"
need_root
A=.collectors.alloc

for path in preload preload-1slot libc; do
	opts=(--alloc-sample-bytes 1)
	[ "$path" = libc ] && opts=(--libc-uprobes)
	slots=
	[ "$path" = preload-1slot ] && slots=1
	DISCO_ALLOC_SLOTS=$slots "$DISCO" record -e alloc --user-only "${opts[@]}" -q -o "$T/$path.data" -- \
		"$FIXTURES/alloc_fixture" basic || fail "$path: record failed"
	"$DISCO" report "$T/$path.data" --format json > "$T/$path.json" || fail "$path: report failed"
	R=$T/$path.json
	assert_eq "$path: method" "$(jqv "$R" "$A.targets[0].method")" \
		"$([ "$path" = libc ] && echo libc-uprobes || echo preload)"
	top=$(jqv "$R" "$A.sites[0].stack[0]")
	case $top in leak_here+0x*"(alloc_fixture)") ;; *) fail "$path: top site starts with '$top', not leak_here";; esac
	assert_eq "$path: leak_here outstanding blocks" "$(jqv "$R" "$A.sites[0].outstanding_allocs")" 7
	assert_eq "$path: leak_here outstanding bytes" "$(jqv "$R" "$A.sites[0].outstanding_bytes")" 7000
	# the fixture lingers 700 ms: older than the 500 ms default --min-age
	assert_eq "$path: leak_here leak candidates" "$(jqv "$R" "$A.sites[0].leak_allocs")" 7
	assert_eq "$path: caller of leak_here" "$(jqv "$R" "$A.sites[0].stack[1] | startswith(\"main+\")")" true
	freed=$(jqv "$R" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\"))] | length")
	assert_eq "$path: freed_here sites" "$freed" 1
	assert_eq "$path: freed_here outstanding" "$(jqv "$R" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\")) | .outstanding_allocs] | add")" 0
	assert_eq "$path: freed_here allocations" "$(jqv "$R" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\")) | .total_allocs] | add")" 50
	assert_eq "$path: freed_here frees" "$(jqv "$R" "[$A.sites[] | select(.stack[0] | startswith(\"freed_here+\")) | .freed_bytes] | add")" 10000
	# the text report names the leak too
	"$DISCO" report "$T/$path.data" > "$T/$path.txt" || fail "$path: text report failed"
	grep -q "leak_here+0x" "$T/$path.txt" || fail "$path: text report lacks leak_here"
done
grep -q "exact: every call" "$T/preload.txt" || fail "preload text report does not say it is exact"
# outstanding bytes by stack in the folded format (flamegraph.pl's input)
"$DISCO" report "$T/preload.data" --format folded -e alloc > "$T/folded" || fail "folded report failed"
grep -q "^heap;.*main;leak_here 7000$" "$T/folded" || { cat "$T/folded" >&2; fail "folded lacks leak_here 7000"; }

# free moves past `test rdi,rdi; je` only when the bytes say so
R=$T/libc.json
libc=$(jqv "$R" "$A.targets[0].libc")
off=$(jqv "$R" "$A.targets[0].probes[] | select(.function == \"free\") | .offset")
va=$(nm -D --defined-only "$libc" | awk '$3 ~ /^free(@|$)/ {print $1; exit}')
bytes=$(objdump -d --start-address=0x$va --stop-address=$((16#$va + 10)) "$libc" |
	awk -F'\t' '/^ +[0-9a-f]+:/ {print $2}' | tr -d ' \n')
case $bytes in
4885ff0f84????????55) assert_eq "free probe offset" "$off" 9;;
*) echo "libc free starts with $bytes: placement '$off' not pinned";;
esac
echo "leak_here: 7 x 1000 B outstanding via preload (slots, and one slot + hash) and via libc uprobes; free probe at +$off"
