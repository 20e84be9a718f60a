#!/usr/bin/env bash
# tcp collector: a connection's state lives in a slot (direct-mapped by
# socket address) or, when another live connection holds that slot, in
# the fallback hash. A real workload rarely collides, so force it:
# DISCO_TCP_SLOTS=1 leaves one slot for all (every other connection goes
# to the hash), 0 uses none (kernels before 5.12); the raw_tp fallback
# keeps its state the same way. The lifecycle test must hold in each.
. "$(dirname "$0")/lib.sh"
need_root
here=$(dirname "$0")
for env in DISCO_TCP_SLOTS=1 DISCO_TCP_SLOTS=0 DISCO_FORCE_METHOD=raw_tp; do
	env "$env" bash "$here/test_tcp_lifecycle.sh" > "$T/out" 2>&1 ||
		fail "lifecycle with $env: $(cat "$T/out")"
done
# a bad value is one clear error, not a silent default
DISCO_TCP_SLOTS=3 "$DISCO" record -e tcp -q -d 1 -o "$T/bad.data" 2> "$T/err" &&
	fail "DISCO_TCP_SLOTS=3 accepted"
grep -q "DISCO_TCP_SLOTS=3: not 0 or a power of two" "$T/err" || fail "unclear error: $(cat "$T/err")"
exit 0
