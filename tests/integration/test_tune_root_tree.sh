#!/usr/bin/env bash
# --root DIR: dry run, --apply and --rollback on a copy of the fixture tree
# (no root needed, nothing live touched): the journal lands under
# DIR/var/lib/disco, --rollback without a path takes the newest one, a
# drifted knob is left alone (exit 1) unless --force.
. "$(dirname "$0")/lib.sh"

R="$T/tree"
cp -r tests/data/tune/numa2 "$R"
echo 2500 > "$R/proc/sys/fs/file-max"	# file-nr says 2080 allocated: 83%

"$DISCO" tune --root "$R" -d 0 --no-sample --json > "$T/dry.json"; rc=$?
assert_eq "dry-run exit" "$rc" 0
assert_eq "file-max proposal" "$(jqv "$T/dry.json" '.proposals[] | select(.knob == "fs.file-max") | .proposed')" 8192
assert_eq "file_handles evidence" "$(jqv "$T/dry.json" '.proposals[] | select(.knob == "fs.file-max") | .evidence.file_handles')" 2080
assert_eq "nofile proposal for the fixture process" "$(jqv "$T/dry.json" '.proposals[] | select(.family == "nofile") | .pid')" 4242
assert_eq "dry run wrote nothing" "$(cat "$R/proc/sys/fs/file-max")" 2500
"$DISCO" tune --root "$R" -d 0 --no-sample | grep -q "^  fs.file-max = 8192$" || fail "no sysctl.d snippet line"

"$DISCO" tune --root "$R" -d 0 --no-sample --apply > "$T/apply.txt" || fail "apply failed: $(cat "$T/apply.txt")"
assert_eq "applied" "$(cat "$R/proc/sys/fs/file-max")" 8192
grep -q "pid 4242 RLIMIT_NOFILE: not applied" "$T/apply.txt" || fail "fake-tree process should not be touched"
j=$(ls "$R"/var/lib/disco/journal-*.json)
[ "$(stat -c %a "$j")" = 600 ] || fail "journal mode"

echo 9000 > "$R/proc/sys/fs/file-max"	# someone else changes it
"$DISCO" tune --root "$R" --rollback > "$T/rb.txt"; rc=$?
assert_eq "drifted rollback exit" "$rc" 1
grep -q "changed by someone else" "$T/rb.txt" || fail "drift not reported: $(cat "$T/rb.txt")"
assert_eq "drifted knob left alone" "$(cat "$R/proc/sys/fs/file-max")" 9000
"$DISCO" tune --root "$R" --rollback --force > "$T/rb2.txt" || fail "forced rollback failed"
assert_eq "forced rollback" "$(cat "$R/proc/sys/fs/file-max")" 2500

# a journal naming a process under a --root tree never touches a live process
sleep 60 &
S=$!
on_exit "kill $S"
st=$(awk '{print $22}' /proc/$S/stat)
mkdir -p "$R/proc/$S" && cp /proc/$S/stat "$R/proc/$S/stat"
jq --argjson pid $S --argjson st $st '.changes = [{"rule":"nofile","family":"nofile","knob":"RLIMIT_NOFILE",
	"pid":$pid,"start_time":$st,"previous":"1:1","new":"4:4","time_ns":1}]' "$j" > "$T/hostile.json"
"$DISCO" tune --root "$R" --rollback "$T/hostile.json" --force > "$T/rb3.txt" && fail "hostile rollback succeeded"
grep -q "^Max open files *1 *1 " /proc/$S/limits && fail "a live process was changed through a --root journal"
grep -q "not restored" "$T/rb3.txt" || fail "no refusal reported: $(cat "$T/rb3.txt")"

# a journal for another root is refused
"$DISCO" tune --rollback "$j" > /dev/null 2>&1 && fail "journal for another root accepted"
# usage errors exit 2
"$DISCO" tune --only bogus > /dev/null 2>&1; assert_eq "usage exit" "$?" 2
"$DISCO" tune --rule nope > /dev/null 2>&1; assert_eq "usage exit" "$?" 2
exit 0
