#!/usr/bin/env bash
# A hostile session file (a zlib/JSON bomb, too many items, too deep, a
# file that inflates far past its size) is refused at the block that
# exceeds the reader's budgets: one error line naming the block and its
# offset, exit 1, bounded time and memory, and the report of everything
# before it. `tune --from` reads through the same loader.
. "$(dirname "$0")/lib.sh"
need_root
EDIT="$(dirname "$0")/session_edit.py"
command -v python3 >/dev/null || skip "needs python3"
[ -x /usr/bin/time ] || skip "needs /usr/bin/time"

"$DISCO" record -e sched -q -d 3 -o "$T/real.data" || fail "record failed"
# the first block appended by session_edit.py sits where the SUMMARY was
first=$(python3 "$EDIT" "$T/real.data" - list | awk '$2 == 4 { print $4 }')
[ -n "$first" ] || fail "no SUMMARY block in the recording"

# check NAME MAX_SECONDS WHAT_THE_ERROR_SAYS COMMAND...
check() {
	local name=$1 max_s=$2 says=$3
	shift 3
	/usr/bin/time -f '%e %M' -o "$T/$name.time" "$@" > "$T/$name.out" 2> "$T/$name.err"
	local rc=$?
	# (the first line may be "Command exited with non-zero status 1")
	read -r wall rss_kb < <(tail -n 1 "$T/$name.time")
	echo "$name: exit $rc, ${wall}s, ${rss_kb} KB"
	[ "$rc" = 1 ] || fail "$name: exit $rc, expected 1: $(cat "$T/$name.err")"
	[ "$(wc -l < "$T/$name.err")" = 1 ] || fail "$name: not one error line: $(cat "$T/$name.err")"
	grep -q "STATE block at offset $first: $says" "$T/$name.err" ||
		fail "$name: error does not name the block, offset $first and '$says': $(cat "$T/$name.err")"
	assert_le "$name RSS (KB)" "$rss_kb" $((100 * 1024))
	assert_le "$name wall time (s)" "$wall" "$max_s"
}

python3 "$EDIT" "$T/real.data" "$T/bomb.data" bomb 1
python3 "$EDIT" "$T/real.data" "$T/bomb20.data" bomb 20
assert_le "bomb file size" "$(stat -c %s "$T/bomb.data")" 200000
check bomb 1 "raw length 66000010 exceeds the 16777216 byte limit" "$DISCO" report "$T/bomb.data"
# everything before the bomb is still reported, marked damaged
grep -q "^disco session:" "$T/bomb.out" || fail "no report of the blocks before the bomb"
grep -q "^== sched ==" "$T/bomb.out" || fail "the sched section before the bomb is missing"
grep -q "WARNING: damaged session file: STATE block at offset $first" "$T/bomb.out" ||
	fail "the report does not say it is damaged"
check bomb20 1 "raw length 66000010 exceeds" "$DISCO" report "$T/bomb20.data"
check bomb_json 1 "raw length 66000010 exceeds" "$DISCO" report --format json "$T/bomb.data"
jqv "$T/bomb_json.out" '.session.complete == false and (.session.damage | length) == 1' >/dev/null
cnt=$(jqv "$T/bomb_json.out" '.collectors.sched.runq_latency.count')
assert_ge "sched samples before the bomb" "$cnt" 1
check tune_from 1 "raw length 66000010 exceeds" "$DISCO" tune --from "$T/bomb.data"

# under the byte limit, over the item or depth budget
python3 "$EDIT" "$T/real.data" "$T/items.data" items 1
check items 5 "10000004 JSON items, over the limit of 1048576" "$DISCO" report "$T/items.data"
python3 "$EDIT" "$T/real.data" "$T/deep.data" deep 1
check deep 1 "JSON nested 100001 levels deep, over the limit of 32" "$DISCO" report "$T/deep.data"
# 20 blocks of 15 MiB, each within the limits: the whole-file budget stops
# the reading at the third (the first two reach 2 x 16 MiB)
python3 "$EDIT" "$T/real.data" "$T/big.data" big 20
kept=$(python3 "$EDIT" "$T/real.data" - list | awk '$2 != 4' | wc -l)
first=$(python3 "$EDIT" "$T/big.data" - list | awk -v i=$((kept + 2)) '$1 == i { print $4 }')
check big 10 "the file would inflate past its budget" "$DISCO" report "$T/big.data"

# the real recording itself reads whole
"$DISCO" report "$T/real.data" > /dev/null 2> "$T/real.err" || fail "real recording: $(cat "$T/real.err")"
exit 0
