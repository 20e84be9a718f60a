#!/usr/bin/env bash
# Builds the qemu initramfs for make vmtest: busybox-static with its applets,
# the static disco, tests/vm/init and its collectors.list, a dynamically
# linked alloc target with its libc, the static real-time target, and (when
# given) the kernel's loop.ko for a block device; with VMTEST_PRELOAD_LIB,
# the preload library beside disco.
# usage: build-initramfs.sh OUT.cpio.gz DISCO_STATIC ALLOC_TARGET RT_TARGET [LOOP_KO]
set -euo pipefail
out=$1 disco=$2 target=$3 rt_target=$4 loop_ko=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "vmtest: busybox not found: run 'make deps' (busybox-static)" >&2; exit 1; }
# ldd fails on a static executable (and `file` may not be installed)
! ldd "$busybox" >/dev/null 2>&1 ||
	{ echo "vmtest: $busybox is not static: run 'make deps' (busybox-static)" >&2; exit 1; }
command -v cpio >/dev/null || { echo "vmtest: cpio not found: run 'make deps'" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/disco-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,lib/modules,lib64,lib/x86_64-linux-gnu}
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
install -m 0755 "$disco" "$root/bin/disco"
install -m 0755 "${VMTEST_INIT:-$here/init}" "$root/init"
mkdir -p "$root/etc/disco"
install -m 0644 "$here/collectors.list" "$root/etc/disco/collectors.list"
install -m 0755 "$target" "$root/bin/alloc_target"
install -m 0755 "$rt_target" "$root/bin/rt_target"
ln -s rt_target "$root/bin/rt_fifo50"
ln -s rt_target "$root/bin/cfs_hog"
# shared libraries, at the paths the target's ELF interpreter expects
copy_libs() {
	ldd "$1" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
copy_libs "$target"
# VMTEST_PRELOAD_LIB: libdisco-alloc.so beside disco, where disco looks for it
if [ -n "${VMTEST_PRELOAD_LIB:-}" ]; then
	install -m 0644 "$VMTEST_PRELOAD_LIB" "$root/bin/libdisco-alloc.so"
	copy_libs "$VMTEST_PRELOAD_LIB"
fi
[ -n "$loop_ko" ] && cp "$loop_ko" "$root/lib/modules/loop.ko"
# the kernel opens /dev/console for init before anything is mounted
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null ||
	echo "vmtest: cannot create /dev/console (not root): init reopens it after mounting devtmpfs"
(cd "$root" && find . | cpio --quiet -o -H newc | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
