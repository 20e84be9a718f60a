#!/usr/bin/env bash
# make vmtest: fetch one of Debian's kernels once and keep what the VM needs
# (the image and the loop driver) in a cache outside the work tree, keyed by
# package name and version. Prints the cached directory, which holds
# vmlinuz, loop.ko (when the kernel builds loop as a module) and package.
# usage: fetch-kernel.sh NAME   NAME: 6.1 | 6.1-rt | 6.12 | 6.12-rt
# Cache: $VMTEST_CACHE, else /var/cache/disco-vmtest as root, else
# ${XDG_CACHE_HOME:-~/.cache}/disco-vmtest.
set -euo pipefail
name=${1:?usage: fetch-kernel.sh NAME}
die() { echo "vmtest: $name: $*" >&2; exit 1; }

# The kernel lines, by the meta package that always depends on the newest
# image of its line: the version is resolved here, never written down.
case $name in
6.1) meta=linux-image-amd64;;
6.1-rt) meta=linux-image-rt-amd64;;
6.12) meta=linux-image-6.12-amd64;;
6.12-rt) meta=linux-image-6.12-rt-amd64;;
*) echo "vmtest: unknown kernel '$name' (6.1, 6.1-rt, 6.12 or 6.12-rt; KERNEL=path/to/vmlinuz for another)" >&2
   exit 2;;
esac

if [ -n "${VMTEST_CACHE:-}" ]; then
	cache=$VMTEST_CACHE
elif [ "$(id -u)" = 0 ]; then
	cache=/var/cache/disco-vmtest
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/disco-vmtest
fi
mkdir -p "$cache" || die "cannot create the kernel cache $cache"

# Without network every apt step gives up after seconds instead of retrying.
apt_opts=(-q -o Acquire::Retries=0 -o Acquire::http::Timeout=20 -o Acquire::https::Timeout=20)
image_pkg() { apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
pkg=$(image_pkg)
# a fresh machine has no package lists until apt-get update
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
	timeout 300 apt-get update "${apt_opts[@]}" >/dev/null 2>&1 || true
	pkg=$(image_pkg)
fi
[ -n "$pkg" ] || die "apt-cache knows no $meta (apt-get update failed or this is not Debian 12); pass KERNEL=path/to/vmlinuz"
ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
[ -n "$ver" ] || die "apt-cache has no version of $pkg"
release=${pkg#linux-image-}
dir=$cache/${pkg}_$ver

# one fetch at a time per cache (two make vmtest runs share it)
exec 9>"$cache/.lock"
flock 9
if [ ! -s "$dir/vmlinuz" ]; then
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "vmtest: $name: apt-get download $pkg ($ver) into $cache" >&2
	(cd "$tmp" && timeout 900 apt-get download "${apt_opts[@]}" "$pkg" 2>&1 |
		grep -v '^W: Download is performed unsandboxed' >&2) || true
	deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1 || true)
	[ -n "$deb" ] || die "apt-get download $pkg failed (no network or no mirror?); pass KERNEL=path/to/vmlinuz"
	# loop.ko, loop.ko.xz or loop.ko.zst depending on the line
	loop=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep "/kernel/drivers/block/loop\.ko" | head -n1 || true)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/vmlinuz-$release" ${loop:+"$loop"} ||
		die "$pkg has no ./boot/vmlinuz-$release"
	mkdir -p "$tmp/out"
	mv "$tmp/boot/vmlinuz-$release" "$tmp/out/vmlinuz"
	case $loop in
	'') ;;
	*.xz) xz -dc "$tmp/$loop" > "$tmp/out/loop.ko";;
	*.zst) zstd -qdc "$tmp/$loop" > "$tmp/out/loop.ko";;
	*) mv "$tmp/$loop" "$tmp/out/loop.ko";;
	esac
	echo "$pkg $ver" > "$tmp/out/package"
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
fi
echo "$dir"
