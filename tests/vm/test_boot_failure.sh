#!/usr/bin/env bash
# make vmtest-failure: a kernel that never reaches the checks (it panics at
# boot, or it outlives the timeout) makes tests/vm/run.sh exit non-zero with
# one line naming the kernel and the reason, followed by the last console
# lines. Uses Debian's 6.1 image from the vmtest cache.
# usage: test_boot_failure.sh DISCO_STATIC OUT_DIR
set -uo pipefail
disco=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
fails=0
mkdir -p "$out"
kdir=$("$here/fetch-kernel.sh" 6.1) || exit 1

# expect NAME STATUS_PATTERN CONSOLE_PATTERN VAR=value...: run the VM under
# the variables, then check the exit status, the one line and the tail
expect() {
	local name=$1 why=$2 tail=$3 rc lines log
	shift 3
	mkdir -p "$out/$name"
	cp "$kdir/vmlinuz" "$out/$name/$name"
	env "$@" "$here/run.sh" --disco "$disco" --out "$out/$name/run" \
		--kernel "$out/$name/$name" > "$out/$name/output" 2>&1
	rc=$?
	# LAST: the console's own last line, wherever the VM had got to
	log=$out/$name/run/$name/console.log
	if [ "$tail" = LAST ]; then
		tail=$(grep -v '^[[:space:]]*$' "$log" 2>/dev/null | tail -n 1 | tr -d '\r')
		tail=${tail:-the console log is empty}
		tail=$(printf '%s' "$tail" | sed 's/[][\\.*^$]/\\&/g')
	fi
	lines=$(grep -c "^vmtest: $name: FAILED: the VM did not finish ($why); last console lines:\$" \
		"$out/$name/output")
	if [ "$rc" = 0 ]; then
		echo "vmtest-failure: FAIL: $name: run.sh exited 0"
		fails=$((fails + 1))
	elif [ "$lines" != 1 ]; then
		echo "vmtest-failure: FAIL: $name: expected one line naming $name and '$why', got $lines:"
		sed 's/^/    /' "$out/$name/output" | head -n 30
		fails=$((fails + 1))
	elif ! grep -A15 "^vmtest: $name: FAILED" "$out/$name/output" | grep -q "^    .*$tail"; then
		echo "vmtest-failure: FAIL: $name: the console lines after it do not show '$tail'"
		sed 's/^/    /' "$out/$name/output" | head -n 30
		fails=$((fails + 1))
	else
		echo "vmtest-failure: ok: $name: exit $rc, $(grep "^vmtest: $name: FAILED" "$out/$name/output")"
	fi
}

# no init in the initramfs: the kernel panics, panic=-1 reboots, qemu ends
expect vmlinuz-panics 'qemu exited 0' 'Kernel panic' VMTEST_APPEND="rdinit=/no-such-init"
# the checks outlive the timeout; what was printed last must not be lost
# with qemu: the console's last line, whether the firmware's banner (a busy
# host), a kernel line (loglevel=7) or the checks' own output (a quiet one)
expect vmlinuz-hangs 'timed out after 20s' LAST \
	VMTEST_TIMEOUT=20 VMTEST_APPEND="loglevel=7"
[ "$fails" = 0 ] && echo "vmtest-failure: passed" || echo "vmtest-failure: FAILED"
[ "$fails" = 0 ]
