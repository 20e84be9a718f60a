#!/usr/bin/env bash
# alloc collector, kernel side, system-wide: a workload opening and closing
# many files and sockets shows allocations at named kernel call sites, page
# allocations by order, and the hooks fall back through raw_tp/tracepoint.
. "$(dirname "$0")/lib.sh"
need_root

for method in "" raw_tp tracepoint; do
	DISCO_FORCE_METHOD=$method "$DISCO" record -e alloc -q -d 3 -o "$T/k$method.data" &
	dpid=$!
	sleep 1
	"$FIXTURES/alloc_fixture" files 3000 > /dev/null
	"$FIXTURES/alloc_fixture" sockets 3000 > /dev/null
	wait "$dpid" || fail "record ($method) failed"
	"$DISCO" report "$T/k$method.data" --format json > "$T/k.json" || fail "report failed"
	K=.collectors.alloc.kernel
	[ "$(jq -r "$K.addresses_hidden" "$T/k.json")" = false ] || skip "kernel addresses hidden"
	n=$(jqv "$T/k.json" "$K.counters.kmalloc + $K.counters.kmem_cache_alloc")
	assert_ge "kernel allocations ($method)" "$n" 6000
	# a named site, not a raw address
	named=$(jqv "$T/k.json" "[$K.sites[] | select(.call_site | test(\"^[a-z_][a-zA-Z0-9_.]*\\\\+0x\"))] | length")
	assert_ge "named kernel call sites ($method)" "$named" 3
	# per-site counts (slot cache + hash, added up per CPU) account for
	# every counted allocation; 1% allows for an interrupt's allocation
	# racing a per-CPU increment (or the top-sites cut)
	persite=$(jqv "$T/k.json" "[$K.sites[].allocs] | add")
	assert_ge "allocations in per-site counts ($method)" "$((persite * 100))" "$((n * 99))"
	# the socket workload's 3000 inode allocations land on one named site
	socks=$(jqv "$T/k.json" "[$K.sites[] | select(.call_site | startswith(\"sock_alloc_inode+\")) | .allocs] | add // 0")
	assert_ge "sock_alloc_inode allocations ($method)" "$socks" 3000
	if [ -z "$method" ]; then
		m=$(jqv "$T/k.json" '.collectors.alloc.hooks[] | select(.hook == "kmem:kmalloc") | .method')
		echo "kmalloc via $m; top sites: $(jq -r "[$K.sites[:3][].call_site] | join(\", \")" "$T/k.json")"
		assert_ge "order-0 pages" "$(jqv "$T/k.json" "[$K.page_orders[] | select(.order == 0) | .allocs] | add // 0")" 1
	else
		m=$(jqv "$T/k.json" '.collectors.alloc.hooks[] | select(.hook == "kmem:kmalloc") | .method')
		assert_eq "forced method" "$m" "$method"
	fi
done
