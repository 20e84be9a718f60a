#!/usr/bin/env bash
# make vmtest: boot a kernel under qemu (TCG) with a busybox initramfs that
# holds the static disco, run check/record/report/bench inside, and check the
# serial console output on the host (tests/vm/check.sh).
# usage: run.sh --disco PATH --out DIR [--kernel VMLINUZ [--modules DIR]]
# Without --kernel: Debian's kernel, the package linux-image-amd64 depends
# on, fetched with apt-get download into DIR (never committed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
disco= out= kernel= modules=
while [ $# -gt 0 ]; do
	case $1 in
	--disco) disco=$2; shift 2;;
	--out) out=$2; shift 2;;
	--kernel) kernel=$2; shift 2;;
	--modules) modules=$2; shift 2;;
	*) echo "vmtest: unknown argument $1" >&2; exit 2;;
	esac
done
[ -n "$disco" ] && [ -n "$out" ] || { echo "usage: run.sh --disco PATH --out DIR [--kernel VMLINUZ [--modules DIR]]" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "vmtest: qemu-system-x86_64 not found: run 'make deps'" >&2; exit 1; }
mkdir -p "$out"
t0=$(date +%s.%N)

loop_ko=
if [ -z "$kernel" ]; then
	kpkg() { apt-cache depends linux-image-amd64 2>/dev/null |
		 awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
	pkg=$(kpkg)
	# a fresh machine has no package lists until apt-get update
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -q >/dev/null && pkg=$(kpkg)
	fi
	[ -n "$pkg" ] || { echo "vmtest: apt-cache knows no linux-image-amd64 (run apt-get update), or pass KERNEL=path/to/vmlinuz" >&2; exit 1; }
	ver=${pkg#linux-image-}
	deb=$(ls "$out/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		echo "vmtest: apt-get download $pkg"
		(cd "$out" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
			{ echo "vmtest: apt-get download $pkg failed" >&2; exit 1; }
		deb=$(ls "$out/${pkg}"_*.deb | head -n1)
	fi
	kdir=$out/kernel-$ver
	if [ ! -e "$kdir/boot/vmlinuz-$ver" ]; then
		# only what the VM needs: the image and the loop driver
		mkdir -p "$kdir"
		dpkg-deb --fsys-tarfile "$deb" |
			tar -x -C "$kdir" "./boot/vmlinuz-$ver" "./lib/modules/$ver/kernel/drivers/block/loop.ko"
	fi
	kernel=$kdir/boot/vmlinuz-$ver
	loop_ko=$kdir/lib/modules/$ver/kernel/drivers/block/loop.ko
elif [ -n "$modules" ]; then
	loop_ko=$(find "$modules" -name loop.ko 2>/dev/null | head -n1 || true)
fi
[ -r "$kernel" ] || { echo "vmtest: cannot read kernel image $kernel" >&2; exit 1; }
[ -n "$loop_ko" ] && [ ! -e "$loop_ko" ] && loop_ko=

gcc -O1 -g -fno-omit-frame-pointer -Wall -o "$out/alloc_target" "$here/alloc_target.c"
"$here/build-initramfs.sh" "$out/initramfs.cpio.gz" "$disco" "$out/alloc_target" $loop_ko
echo "vmtest: booting $kernel ($(du -h "$out/initramfs.cpio.gz" | cut -f1) initramfs, TCG)"

t1=$(date +%s.%N)
rc=0
timeout "${VMTEST_TIMEOUT:-270}" qemu-system-x86_64 \
	-accel tcg,thread=single -smp 2 -m 1G -nographic -no-reboot \
	-kernel "$kernel" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 loglevel=1 quiet panic=-1 ${VMTEST_APPEND:-}" </dev/null |
	tr -d '\r' > "$out/console.log" || rc=$?
t2=$(date +%s.%N)
[ "$rc" = 124 ] && echo "vmtest: qemu timed out after ${VMTEST_TIMEOUT:-270}s" >&2
status=0
"$here/check.sh" "$out/console.log" "$out/results" || status=1
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "vmtest: wall time %.0fs (VM %.0fs, setup %.0fs)\n", c - a, c - b, b - a }'
[ $status = 0 ] && echo "vmtest: passed" || echo "vmtest: FAILED (console log: $out/console.log)"
exit $status
