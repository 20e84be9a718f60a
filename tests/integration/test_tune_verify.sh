#!/usr/bin/env bash
# --apply --verify in private network namespaces, with a client burst as the
# workload (-- COMMAND, run once per window):
#  - a server that listens again every 500 ms (like a reload) picks up the
#    raised somaxconn: the overflows go away, the change is kept, before ->
#    after is printed and in the journal;
#  - a server that never listens again keeps its capped backlog: the change
#    cannot help, --verify rolls it back and the journal says why.
# The drops are counted per run of the workload, so a busy host stretching
# the runs after the change does not make it look better.
# The host's somaxconn never moves.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null || skip "no unshare"
[ -x "$FIXTURES/tune_flood" ] || fail "missing fixture tune_flood"

host=$(cat /proc/sys/net/core/somaxconn)
port=$((20000 + RANDOM % 20000))
F=$FIXTURES/tune_flood

verify_in_ns() { # RELISTEN_MS NAME
	mkdir -p "$T/$2"
	cat > "$T/$2/inner.sh" <<INNER
set -u
ip link set lo up
echo 16 > /proc/sys/net/core/somaxconn
"$F" server $port 4096 $1 > "$T/$2/server.out" &
S=\$!
trap 'kill \$S' EXIT
while ! grep -q ready "$T/$2/server.out"; do sleep 0.05; done
"$DISCO" tune --rule somaxconn --apply --verify --journal "$T/$2" --json -- "$F" client $port 60 1500 \
	> "$T/$2/out.json" 2> "$T/$2/err.txt"
echo \$? > "$T/$2/rc"
cat /proc/sys/net/core/somaxconn > "$T/$2/after"
INNER
	unshare -n bash "$T/$2/inner.sh" || fail "$2: inner script failed"
	J=$(ls "$T/$2"/journal-*.json 2>/dev/null | head -1)
	[ -n "$J" ] || fail "$2: no journal: $(cat "$T/$2/err.txt")"
}

verify_in_ns 500 helps
assert_eq "helps: exit" "$(cat "$T/helps/rc")" 0
assert_eq "helps: verdict" "$(jqv "$T/helps/out.json" '.verify[0].verdict')" kept
assert_eq "helps: metric" "$(jqv "$T/helps/out.json" '.verify[0].metric')" listen_drops_per_run
assert_eq "helps: windows before" "$(jqv "$T/helps/out.json" '.verify[0].before | length')" 3
assert_ge "helps: overflows before" "$(jqv "$T/helps/out.json" '.verify[0].before | min')" 1
# the first window after may still meet the old socket before it listens again
assert_eq "helps: clean windows after" "$(jqv "$T/helps/out.json" '.verify[0].after | min')" 0
grep -q "verify somaxconn: listen_drops_per_run before \[.*\] -> after \[.*\]: KEPT" "$T/helps/err.txt" ||
	fail "helps: before -> after not printed: $(cat "$T/helps/err.txt")"
assert_eq "helps: kept value" "$(cat "$T/helps/after")" 128
assert_eq "helps: journal verdict" "$(jqv "$J" '.changes[0].verify.verdict')" kept
jqv "$J" '.changes[0].verify.measured' | grep -q "improved beyond the noise" || fail "helps: journal reason"
assert_eq "helps: journal in force" "$(jqv "$J" .rolled_back_ns)" 0

verify_in_ns 0 cannot_help
assert_eq "cannot help: exit" "$(cat "$T/cannot_help/rc")" 1
grep -q "verify rolled back 1 of 1 change" "$T/cannot_help/err.txt" || fail "cannot help: no summary line"
assert_eq "cannot help: verdict" "$(jqv "$T/cannot_help/out.json" '.verify[0].verdict')" rolled-back
assert_ge "cannot help: still overflowing" "$(jqv "$T/cannot_help/out.json" '.verify[0].after | min')" 1
assert_eq "cannot help: restored" "$(cat "$T/cannot_help/after")" 16
grep -q "restored 16" "$T/cannot_help/err.txt" || fail "cannot help: $(cat "$T/cannot_help/err.txt")"
assert_eq "cannot help: journal verdict" "$(jqv "$J" '.changes[0].verify.verdict')" rolled-back
jqv "$J" '.changes[0].verify.measured' | grep -q "no improvement beyond the noise" ||
	fail "cannot help: journal does not say why: $(jq .changes "$J")"
assert_ge "cannot help: journal rolled back" "$(jqv "$J" .rolled_back_ns)" 1
assert_eq "host somaxconn untouched" "$(cat /proc/sys/net/core/somaxconn)" "$host"
