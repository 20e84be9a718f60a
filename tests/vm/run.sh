#!/usr/bin/env bash
# make vmtest: boot each kernel of the matrix under qemu (TCG; KVM when
# /dev/kvm works) with a busybox initramfs that holds the static disco, run
# the checks of tests/vm/init inside, check the serial console output on the
# host (tests/vm/check.sh) and write the kernel support table
# (tests/vm/kernels-table.sh) to DIR/kernels.md.
# usage: run.sh --disco PATH --out DIR [--kernels "6.1 6.1-rt 6.12"]
#               [--kernel VMLINUZ [--modules DIR]]
# --kernels: Debian's kernel lines, fetched once into a cache
# (tests/vm/fetch-kernel.sh); --kernel: one local image instead.
# VMTEST_JOBS=N boots N kernels at a time (default 1); VMTEST_TIMEOUT
# seconds per kernel (default 900: 6.1 PREEMPT_RT took 567 s on a busy
# 2-CPU host).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
disco= out= kernel= modules= kernels="6.1 6.1-rt 6.12"
while [ $# -gt 0 ]; do
	case $1 in
	--disco) disco=$2; shift 2;;
	--out) out=$2; shift 2;;
	--kernels) kernels=$2; shift 2;;
	--kernel) kernel=$2; shift 2;;
	--modules) modules=$2; shift 2;;
	*) echo "vmtest: unknown argument $1" >&2; exit 2;;
	esac
done
[ -n "$disco" ] && [ -n "$out" ] ||
	{ echo "usage: run.sh --disco PATH --out DIR [--kernels LIST] [--kernel VMLINUZ [--modules DIR]]" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "vmtest: qemu-system-x86_64 not found: run 'make deps'" >&2; exit 1; }
timeout_s=${VMTEST_TIMEOUT:-900}
jobs=${VMTEST_JOBS:-1}
accel="-accel tcg,thread=single"
[ -w /dev/kvm ] && accel="-accel kvm -cpu host"
rm -rf "$out"
mkdir -p "$out"
t0=$(date +%s.%N)
gcc -O1 -g -fno-omit-frame-pointer -Wall -o "$out/alloc_target" "$here/alloc_target.c"
gcc -O1 -static -Wall -o "$out/rt_target" "$here/rt_target.c"

# boot NAME VMLINUZ LOOP_KO: one kernel into $out/NAME; its summary line
# (name, package, boot, tests and VM seconds, result) into $out/NAME/summary
boot() {
	local name=$1 vmlinuz=$2 loop_ko=$3 dir=$out/$1 rc=0 status=0 why
	local t1 t2
	mkdir -p "$dir"
	"$here/build-initramfs.sh" "$dir/initramfs.cpio.gz" "$disco" "$out/alloc_target" "$out/rt_target" \
		$loop_ko
	echo "vmtest: $name: booting $vmlinuz (${accel#-accel }, $(du -h "$dir/initramfs.cpio.gz" | cut -f1) initramfs)"
	t1=$(date +%s.%N)
	# noirqdebug: PREEMPT_RT runs the 8250 UART's handler in a thread; under
	# TCG it falls behind the emulated UART, the spurious-interrupt detector
	# counts the interrupts as unhandled and disables IRQ 4 ("irq 4: nobody
	# cared"), and the console then crawls until the timeout.
	# shellcheck disable=SC2086
	timeout "$timeout_s" qemu-system-x86_64 $accel -smp 2 -m 1G -nographic -no-reboot \
		-kernel "$vmlinuz" -initrd "$dir/initramfs.cpio.gz" \
		-append "console=ttyS0 loglevel=1 quiet panic=-1 noirqdebug ${VMTEST_APPEND:-}" </dev/null |
		stdbuf -oL tr -d '\r' > "$dir/console.log" || rc=$?
	t2=$(date +%s.%N)
	if ! grep -q '^@@DISCO-VM-DONE' "$dir/console.log"; then
		# one line that names the kernel, then what it printed last
		why="qemu exited $rc"
		[ "$rc" = 124 ] && why="timed out after ${timeout_s}s"
		echo "vmtest: $name: FAILED: the VM did not finish ($why); last console lines:"
		sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' "$dir/console.log" | grep -v '^[[:space:]]*$' |
			tail -n 15 | sed 's/^/    /' | grep . ||
			echo "    (nothing on the console)"
		status=1
	else
		VMTEST_KERNEL=$name "$here/check.sh" "$dir/console.log" "$dir/results" || status=1
	fi
	awk -v n="$name" -v p="$(cat "$dir/package" 2>/dev/null || echo "$vmlinuz")" \
	    -v b="$t1" -v c="$t2" -v s="$status" -v f="$dir/console.log" '
		/@@NOTE kernel / { for (i = 1; i <= NF; i++) if ($i == "boot") boot = $(i + 1) + 0 }
		/@@NOTE done uptime / { sub(/s$/, "", $4); done_at = $4 + 0 }
		END { printf "%s|%s|%s|%s|%.0f|%s\n", n, p,
			boot ? sprintf("%.0f", boot) : "-", done_at ? sprintf("%.0f", done_at - boot) : "-",
			c - b, s ? "FAILED" : "passed" }' "$dir/console.log" > "$dir/summary"
	return $status
}

# run_one NAME: fetch (when a kernel line) and boot, output into $out/NAME/log
run_one() {
	local name=$1 kdir vmlinuz loop_ko=
	mkdir -p "$out/$name"
	if [ -n "$kernel" ]; then
		vmlinuz=$kernel
		[ -n "$modules" ] && loop_ko=$(find "$modules" -name loop.ko 2>/dev/null | head -n1 || true)
	else
		kdir=$("$here/fetch-kernel.sh" "$name") || {
			echo "$name|-|-|-|0|FAILED" > "$out/$name/summary"
			return 1
		}
		vmlinuz=$kdir/vmlinuz
		[ -e "$kdir/loop.ko" ] && loop_ko=$kdir/loop.ko
		cp "$kdir/package" "$out/$name/package"
	fi
	[ -r "$vmlinuz" ] || { echo "vmtest: $name: cannot read kernel image $vmlinuz" >&2
			       echo "$name|-|-|-|0|FAILED" > "$out/$name/summary"; return 1; }
	boot "$name" "$vmlinuz" "$loop_ko"
}

if [ -n "$kernel" ]; then
	names=$(basename "$kernel")
else
	names=$kernels
fi
status=0
running=0
for name in $names; do
	if [ "$jobs" = 1 ]; then
		run_one "$name" 2>&1 | tee "$out/$name.log" || true
		continue
	fi
	# each kernel's output to its own log, shown in the order of the list
	run_one "$name" > "$out/$name.log" 2>&1 &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait || true
for name in $names; do
	[ "$jobs" = 1 ] || cat "$out/$name.log"
	grep -q '|passed$' "$out/$name/summary" 2>/dev/null || status=1
done

# the host's kernel beside them: what disco check chooses here
"$disco" check --json > "$out/host-check.json" 2>/dev/null
jq -e '.schema == "disco.check/1"' "$out/host-check.json" >/dev/null 2>&1 || rm -f "$out/host-check.json"
"$here/kernels-table.sh" "$out" $names > "$out/kernels.md" || status=1
cat "$out/kernels.md"
echo
echo "vmtest: kernel | package | boot s | tests s | VM wall s | result"
for name in $names; do cat "$out/$name/summary"; done | sed 's/^/vmtest: /; s/|/ | /g'
awk -v a="$t0" -v b="$(date +%s.%N)" -v j="$jobs" \
	'BEGIN { printf "vmtest: wall time %.0fs for the matrix (%d at a time)\n", b - a, j }'
[ $status = 0 ] && echo "vmtest: passed ($names)" || echo "vmtest: FAILED (logs in $out)"
exit $status
