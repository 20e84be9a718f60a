#!/usr/bin/env bash
# cpu collector end to end: a fixture doing 3 units of work in one function
# for every unit in another must be attributed 75% / 25% (+-5 points) with
# both names; -p keeps only that process; a stripped copy is named from its
# debug file found by build-id; a process that exits (and whose binary is
# deleted) before the session ends still has its names.
. "$(dirname "$0")/lib.sh"
need_root
F=$FIXTURES/stack_fixture

"$DISCO" record -e cpu -F 499 -q -o "$T/fp.data" -- "$F" cpu 4 || fail "record failed"
"$DISCO" report "$T/fp.data" --format json > "$T/fp.json" || fail "report failed"
assert_split "$T/fp.json" "frame pointers"
# whole stacks: main calls the hot function, and the stack is not marked cut
jqv "$T/fp.json" '[.collectors.cpu.stacks[] | select([.frames[].sym] | index("hot_three_quarters"))
	| select([.frames[].sym] | index("main")) | select(.truncated == false)] | length > 0' >/dev/null
jqv "$T/fp.json" '.collectors.cpu.hooks[] | select(.hook == "cpu-clock") | .method == "perf_event"' >/dev/null
"$DISCO" report "$T/fp.data" | grep -q "hot_three_quarters" || fail "text report lacks the hot function"

# -p: only that process, even with others busy
"$F" cpu 20 &
pid=$!
on_exit "kill $pid"
"$F" cpu 20 &
other=$!
on_exit "kill $other"
"$DISCO" record -e cpu -F 199 -q -d 2 -p "$pid" -o "$T/p.data" || fail "record -p failed"
"$DISCO" report "$T/p.data" --format json > "$T/p.json" || fail "report failed"
pids=$(jq -c '[.collectors.cpu.stacks[].pid] | unique' "$T/p.json")
assert_eq "processes sampled with -p $pid" "$pids" "[$pid]"
kill "$pid" "$other"

# stripped binary, debug file under a build-id path of a private debug directory
cp "$F" "$T/stripped"
objcopy --only-keep-debug "$T/stripped" "$T/stripped.debug"
strip --strip-all "$T/stripped"
bid=$(readelf -n "$T/stripped" | awk '/Build ID/ { print $3 }')
[ -n "$bid" ] || fail "fixture has no build-id"
mkdir -p "$T/dbg/.build-id/${bid:0:2}" "$T/nodbg"
cp "$T/stripped.debug" "$T/dbg/.build-id/${bid:0:2}/${bid:2}.debug"
DISCO_DEBUG_DIR=$T/nodbg "$DISCO" record -e cpu -F 199 -q -o "$T/s0.data" -- "$T/stripped" cpu 1 ||
	fail "record of the stripped binary failed"
"$DISCO" report "$T/s0.data" --format json > "$T/s0.json" || fail "report failed"
# without the debug file: no name, and the report says why
jqv "$T/s0.json" '[.collectors.cpu.stacks[].frames[].sym] | index("hot_three_quarters") == null' >/dev/null
assert_ge "frames counted as stripped" "$(jq '.collectors.cpu.unnamed_frames.stripped' "$T/s0.json")" 1
DISCO_DEBUG_DIR=$T/dbg "$DISCO" record -e cpu -F 199 -q -o "$T/s1.data" -- "$T/stripped" cpu 1 ||
	fail "record of the stripped binary failed"
"$DISCO" report "$T/s1.data" --format json > "$T/s1.json" || fail "report failed"
hot=$(cpu_share "$T/s1.json" hot_three_quarters stripped)
echo "stripped + build-id debug file: hot_three_quarters ${hot}%"
assert_ge "hot share from the debug file" "$hot" 60

# exits (and its binary is deleted) two seconds before the session ends
cp "$F" "$T/gone"
"$DISCO" record -e cpu -F 199 -q -o "$T/g.data" -- \
	sh -c "\"$T/gone\" cpu 1; rm -f \"$T/gone\"; sleep 2" || fail "record failed"
[ ! -e "$T/gone" ] || fail "the binary was not deleted"
"$DISCO" report "$T/g.data" --format json > "$T/g.json" || fail "report failed"
hot=$(cpu_share "$T/g.json" hot_three_quarters gone)
echo "exited process: hot_three_quarters ${hot}%"
assert_ge "hot share of the exited process" "$hot" 60
echo "ok"
