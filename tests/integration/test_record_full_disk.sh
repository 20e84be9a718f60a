#!/usr/bin/env bash
# A full disk is one clear error, a non-zero exit, and the file stays
# readable up to its last whole block (SPEC §8). The disk is a 96 KiB tmpfs
# in a private mount namespace; every run-queue sample is an event so the
# file fills within seconds.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null || skip "needs unshare"

mkdir "$T/small"
unshare -m sh -c "mount -t tmpfs -o size=96k tmpfs '$T/small' &&
	'$DISCO' record -e sched --min-latency 0 -q -d 20 -o '$T/small/s.data' \
		2> '$T/err'; echo \$? > '$T/rc'; cp '$T/small/s.data' '$T/copy.data'" &
sh_pid=$!
# keep the scheduler busy so the events come fast
stress-ng --switch 1 -t 8 >/dev/null 2>&1 &
on_exit "kill $! 2>/dev/null"
wait $sh_pid
rc=$(cat "$T/rc")
[ "$rc" != 0 ] || fail "record on a full disk exited 0"
grep -q "No space left on device" "$T/err" || fail "no clear ENOSPC message: $(cat "$T/err")"
# the last bytes never hold a torn block: the reader sees only whole blocks
"$DISCO" report "$T/copy.data" --format json > "$T/r.json" || fail "the file is not readable: $(cat "$T/err")"
jqv "$T/r.json" '.session.complete == false' >/dev/null
# the text report must not claim a kill after a full disk
"$DISCO" report "$T/copy.data" > "$T/r.txt" || fail "text report failed"
! grep -q "recorder was killed" "$T/r.txt" || fail "report says the recorder was killed after a full disk"
grep -q "disk filled up" "$T/r.txt" || fail "report does not name a full disk: $(grep WARNING "$T/r.txt")"
n=$(jqv "$T/r.json" '.session.events_recorded')
assert_ge "events kept before the disk filled" "$n" 100
exit 0
