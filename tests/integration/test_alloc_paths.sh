#!/usr/bin/env bash
# alloc collector: calloc, realloc (grow and realloc(p, 0)), posix_memalign,
# aligned_alloc and mmap/munmap are tracked with exact sizes, per site,
# through the preload library in full mode and through libc uprobes.
. "$(dirname "$0")/lib.sh"
need_root

for path in preload libc; do
opts=(--alloc-sample-bytes 1)
[ "$path" = libc ] && opts=(--libc-uprobes)
"$DISCO" record -e alloc --user-only "${opts[@]}" -q -f -o "$T/a.data" -- "$FIXTURES/alloc_fixture" all ||
	fail "$path: record failed"
"$DISCO" report "$T/a.data" --format json > "$T/r.json" || fail "$path: report failed"

# sum over the sites whose first frame is in function $1: field $2
site() {
	jq -er "[.collectors.alloc.sites[] | select(.stack[0] | startswith(\"$1+\")) | .$2] | add // 0" \
		"$T/r.json" || fail "$path: jq on $1.$2"
}
assert_eq "$path: leak_here bytes" "$(site leak_here outstanding_bytes)" 7000
assert_eq "$path: calloc leaks" "$(site leak_calloc_here outstanding_allocs)" 3
assert_eq "$path: calloc leak bytes" "$(site leak_calloc_here outstanding_bytes)" 900
assert_eq "$path: calloc freed" "$(site freed_calloc_here outstanding_allocs)" 0
assert_eq "$path: calloc freed total" "$(site freed_calloc_here total_bytes)" 2000
assert_eq "$path: realloc grown blocks" "$(site leak_realloc_here outstanding_allocs)" 4
assert_eq "$path: realloc grown bytes" "$(site leak_realloc_here outstanding_bytes)" 20000
# the 16-byte originals moved to the realloc site
assert_eq "$path: grow_start outstanding" "$(site grow_start outstanding_allocs)" 0
assert_eq "$path: realloc(p, 0) frees" "$(site realloc_free_here outstanding_allocs)" 0
assert_eq "$path: posix_memalign leaks" "$(site leak_memalign_here outstanding_bytes)" 512
assert_eq "$path: aligned_alloc leaks" "$(site leak_aligned_alloc_here outstanding_bytes)" 512
assert_eq "$path: mmap leaks" "$(site leak_mmap_here outstanding_bytes)" 24576
assert_eq "$path: munmap'ed" "$(site unmapped_here outstanding_allocs)" 0
# the leak sites are the top of the report
top=$(jqv "$T/r.json" '.collectors.alloc.sites[0].stack[0]')
case $top in leak_realloc_here+*) ;; *) fail "$path: top site is '$top'";; esac
done
echo "calloc/realloc/posix_memalign/aligned_alloc/mmap paths exact via preload and libc uprobes"
