#!/usr/bin/env bash
# Host side of make vmtest: split the serial console log into its
# @@BEGIN/@@END sections and check them: every collector loads, attaches
# with a reported method, and records events; the report renders in every
# format; bench JSON parses.
# usage: check.sh CONSOLE_LOG RESULTS_DIR   (VMTEST_REQUIRE: the collectors
# that must be built into the disco under test, default every one of
# tests/vm/collectors.list; VMTEST_REQUIRE= to test whatever it has;
# VMTEST_KERNEL: the kernel's name in front of every line)
set -u
log=$1 res=$2
here=$(cd "$(dirname "$0")" && pwd)
listed=$(awk '$1 !~ /^#/ && NF { print $1 }' "$here/collectors.list" | tr '\n' ' ')
listed=${listed% }
VMTEST_REQUIRE=${VMTEST_REQUIRE-${listed// /,}}
pfx="vmtest: ${VMTEST_KERNEL:+$VMTEST_KERNEL: }"
fails=0
bad() { echo "${pfx}FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "${pfx}ok: $*"; }

rm -rf "$res"
mkdir -p "$res"
awk -v dir="$res" -v pfx="$pfx" '
# the firmware leaves terminal escapes in front of the first line
/@@(BEGIN|END|NOTE) / { sub(/^.*@@/, "@@") }
/^@@BEGIN / {
	name = $2; file = dir "/" name; printf "" > file; inside = 1
	if ($NF == "gz")
		print name > (dir "/.gz")
	if (match($0, /rc=[0-9]+/))
		print substr($0, RSTART + 3, RLENGTH - 3) > (dir "/" name ".rc")
	next
}
/^@@END / { inside = 0; close(file); next }
/^@@NOTE / { sub(/^@@NOTE /, ""); print pfx "vm: " $0; next }
inside { print >> file }
' "$log"
# sections that travelled gzip'ed in base64 (tests/vm/init: emit)
[ -e "$res/.gz" ] && while read -r name; do
	base64 -d < "$res/$name" 2>/dev/null | gunzip > "$res/$name.plain" 2>/dev/null ||
		bad "$name: its gzip'ed base64 on the console does not decode"
	mv "$res/$name.plain" "$res/$name"
done < "$res/.gz"

if ! grep -q '^@@DISCO-VM-DONE' "$log"; then
	bad "the VM did not finish its script; last lines of the console:"
	tail -n 25 "$log" | sed 's/^/    /'
fi
rc_of() { cat "$res/$1.rc" 2>/dev/null || echo missing; }
show_err() { [ -s "$res/$1.stderr" ] && sed 's/^/    stderr: /' "$res/$1.stderr" | head -n 15; }

[ "$(rc_of version)" = 0 ] && ok "disco $(cat "$res/version")" || bad "disco --version (rc $(rc_of version))"

# disco check --json: which collectors this disco has and whether each can run
built=
if jq -e '.schema == "disco.check/1"' "$res/check" >/dev/null 2>&1; then
	built=$(jq -r '.collectors | keys_unsorted[]' "$res/check" | tr '\n' ' ')
	while read -r name okay hooks; do
		[ "$okay" = true ] && ok "check: $name can run: $hooks" || bad "check: $name cannot run: $hooks"
	done < <(jq -r '.collectors | to_entries[] | "\(.key) \(.value.ok) " +
		([.value.hooks[] | "\(.hook)=\(.method // ("none: " + (.reason // "?")))"] | join(", "))' "$res/check")
else
	bad "disco check --json did not produce disco.check/1 JSON (rc $(rc_of check))"
	show_err check
fi
# alloc's two user-space paths, each required when alloc is built in: the
# preload library beside disco (its own probe functions fired) and libc
# uprobes, each with the target's vm_leak() exact (tests/vm/alloc_target.c:
# 5 x 777 bytes; every call is recorded, collectors.list). In full mode the
# library holds each free back and hands it over with the thread's next
# allocation probe, so lib_free itself may never run on the churn: the frees
# are checked in the counters instead, on both paths.
case " $built " in *" alloc "*)
	for pair in record-alloc:preload:lib_alloc record-alloc-libc:libc-uprobes:; do
		IFS=: read -r sec want progs <<< "$pair"
		rep=$res/$sec-report
		if [ ! -s "$rep" ]; then
			bad "$sec: no report: the VM did not record alloc's $want path"
			continue
		fi
		got=$(jq -r '.collectors.alloc.targets[0].method // "none"' "$rep" 2>/dev/null)
		[ "$got" = "$want" ] && ok "$sec: alloc target probed by $got" ||
			bad "$sec: alloc target probed by ${got:-none}, expected $want"
		for prog in ${progs//,/ }; do
			runs=$(jq -r --arg p "$prog" '[.collectors.alloc.programs[]? | select(.name == $p) |
				.run_count] | add // 0' "$rep" 2>/dev/null)
			[ "${runs:-0}" -gt 0 ] 2>/dev/null && ok "$sec: $prog ran $runs times" ||
				bad "$sec: $prog never ran"
		done
		frees=$(jq -r '.collectors.alloc.counters.frees // 0' "$rep" 2>/dev/null)
		[ "${frees:-0}" -gt 0 ] 2>/dev/null && ok "$sec: $frees frees recorded" ||
			bad "$sec: no frees recorded"
		leak=$(jq -r '[.collectors.alloc.sites[]? | select(.stack[0]? // "" | startswith("vm_leak+")) |
			"\(.outstanding_allocs) x \(.outstanding_bytes)"] | join(", ")' "$rep" 2>/dev/null)
		[ "$leak" = "5 x 3885" ] && ok "$sec: vm_leak outstanding exactly: $leak bytes" ||
			bad "$sec: vm_leak outstanding '${leak:-no such site}', expected 5 x 3885 bytes"
	done;;
esac

# tcp with --rtt-per-ack, from the first method and forced to raw_tp and
# tracepoint: one RTT hook attached (tcp_probe, or tcp_rcv_space_adjust
# where it is missing) and its samples taken per ACK
case " $built " in *" tcp "*)
	for sec in record-tcp-ack record-tcp-ack-raw_tp record-tcp-ack-tracepoint; do
		rep=$res/$sec-report
		if [ ! -s "$rep" ]; then
			bad "$sec: no report: the VM did not record tcp --rtt-per-ack"
			continue
		fi
		hook=$(jq -r '[.collectors.tcp.hooks[]? | select(.hook == "tcp:tcp_probe" or
			.hook == "tcp:tcp_rcv_space_adjust") | select(.method) | "\(.hook) by \(.method)"] |
			join(", ")' "$rep" 2>/dev/null)
		n=$(jq -r 'if .collectors.tcp.srtt_samples == "per_ack" then .collectors.tcp.srtt.count // 0
			else 0 end' "$rep" 2>/dev/null)
		[ -n "$hook" ] && [ "${n:-0}" -gt 0 ] 2>/dev/null &&
			ok "$sec: RTT per ACK from $hook, $n samples" ||
			bad "$sec: no per-ACK RTT samples (hook: ${hook:-none}, samples: ${n:-none})"
	done;;
esac

for c in ${VMTEST_REQUIRE:+${VMTEST_REQUIRE//,/ }}; do
	case " $built " in *" $c "*) ;; *) bad "collector $c is not built into this disco";; esac
done
missing=
for c in $listed; do
	case " $built " in *" $c "*) ;; *) missing="$missing $c";; esac
done
[ -n "$missing" ] && echo "${pfx}note: not built into this disco (not tested):$missing"

recorded=
# Each record-* section: the session records and its report shows, per
# collector, a method for every required hook (or "not_needed": another
# collector's program does its work, as sched's does offcpu's sched_switch when
# both run) and events that really fired.
for rcf in "$res"/record*.rc; do
	sec=$(basename "$rcf" .rc)
	case $sec in *-report*|*-verbose) continue;; esac
	if [ "$(rc_of "$sec")" != 0 ]; then
		bad "$sec: disco record exited $(rc_of "$sec")"
		show_err "$sec"
		[ -s "$res/$sec-verbose" ] && echo "    (libbpf/verifier log: $res/$sec-verbose)"
		continue
	fi
	rep=$res/$sec-report
	if ! jq -e '.schema == "disco.report/1"' "$rep" >/dev/null 2>&1; then
		bad "$sec: disco report --format json is not disco.report/1 JSON (rc $(rc_of "$sec-report"))"
		show_err "$sec-report"
		continue
	fi
	while IFS='|' read -r name nohook hooks events runs values; do
		if [ -n "$nohook" ]; then
			bad "$sec: $name: required hook without a method: $nohook"
		elif [ -z "$hooks" ] && [ "$values" -gt 0 ]; then
			# a collector without BPF hooks (system reads /proc): its figures
			ok "$sec: $name: no BPF hooks; $values non-zero figures in its report"
			recorded="$recorded $name"
		elif [ "$events" -gt 0 ] || [ "$runs" -gt 0 ]; then
			ok "$sec: $name: $hooks; ring events $events, BPF program runs $runs"
			recorded="$recorded $name"
		else
			bad "$sec: $name attached ($hooks) but recorded no events"
		fi
	done < <(jq -r '.collectors | to_entries[] | .value as $v | [
		.key,
		([$v.hooks[]? | select(.optional | not) | select(.method == null and (.not_needed | not)) | .hook] | join(",")),
		([$v.hooks[]? | "\(.hook)=\(.method // "none")"] | join(", ")),
		($v.events // 0),
		([$v.programs[]?.run_count] | add // 0),
		([$v | del(.hooks, .programs, .events, .drops) | .. | numbers | select(. > 0)] | length)
	] | map(tostring) | join("|")' "$rep")
	[ "$(jq '.collectors | length' "$rep")" -gt 0 ] || bad "$sec: the report has no collectors"
done

for c in ${VMTEST_REQUIRE:+${VMTEST_REQUIRE//,/ }}; do
	case " $recorded " in *" $c "*) ;; *) bad "collector $c recorded events in no session";; esac
done

# The unforced sessions (the ones rendered in every format) attach exactly
# what disco check said they would (hooks a collector turns off by its
# options say "off ..."), and render as text, HTML and Prometheus.
for f in "$res"/record*-report-text.rc; do
	[ -e "$f" ] || continue
	sec=$(basename "$f" -report-text.rc)
	cols=$(jq -r '.collectors | keys[]' "$res/$sec-report" 2>/dev/null | tr '\n' ' ')
	for fmt in text html prometheus; do
		out=$res/$sec-report-$fmt
		if [ "$(rc_of "$sec-report-$fmt")" != 0 ]; then
			bad "$sec: disco report --format $fmt exited $(rc_of "$sec-report-$fmt")"
			show_err "$sec-report-$fmt"
			continue
		fi
		why=
		for c in $cols; do
			case $fmt in
			prometheus) grep -q "^disco_${c}_" "$out" || why="$why no disco_${c}_* metric;";;
			*) grep -qw "$c" "$out" || why="$why $c not named;";;
			esac
		done
		case $fmt in
		html) head -n1 "$out" | grep -qi '^<!DOCTYPE html>' && tail -n1 "$out" | grep -q '^</html>$' ||
			why="$why not one whole HTML document;";;
		prometheus) if command -v promtool >/dev/null; then
				promtool check metrics < "$out" > "$out.promtool" 2>&1 ||
					why="$why promtool: $(head -n1 "$out.promtool");"
			fi;;
		esac
		if [ -n "$why" ]; then
			bad "$sec: report --format $fmt:$why"
		else
			ok "$sec: report --format $fmt ($(wc -c < "$out") bytes)"
		fi
	done
	rep=$res/$sec-report
	[ -n "$built" ] && jq -e '.schema == "disco.report/1"' "$rep" >/dev/null 2>&1 || continue
	while IFS='|' read -r name diff; do
		if [ -z "$diff" ]; then
			ok "$sec: $name: hooks as disco check chose them"
		else
			bad "$sec: $name: disco check and disco record disagree: $diff"
		fi
	done < <(jq -r --slurpfile chk "$res/check" '.collectors | to_entries[] | .key as $n | [
		$n,
		([.value.hooks[]? | select((.reason // "") | startswith("off") | not) | select(.not_needed | not) as $h |
		  ($chk[0].collectors[$n].hooks[]? |
			select(.hook == $h.hook) | .method) as $c | select($c != $h.method) |
			"\($h.hook) check=\($c // "none") record=\($h.method // "none")"] | join(", "))
	] | join("|")' "$rep")
done

# The real-time check: the SCHED_FIFO task (tests/vm/rt_target.c) is in the
# sched report with its wakeups; who ran while it waited is shown
if [ -e "$res/rt-sched.rc" ]; then
	if [ "$(rc_of rt-sched)" != 0 ]; then
		bad "rt-sched: disco record -- rt_fifo50 exited $(rc_of rt-sched)"
		show_err rt-sched
	elif line=$(jq -er 'def us: (. // 0) / 1000 | floor | tostring + "us";
		.collectors.sched as $s |
		([$s.processes[] | select(.comm == "rt_fifo50" and .runq_latency.count > 0)][0] // error) as $rt |
		([$s.processes[] | select(.comm == "cfs_hog")][0].runq_latency) as $hog |
		"rt-sched: SCHED_FIFO task waited \($rt.runq_latency.count) times, p50 \($rt.runq_latency.p50_ns | us)" +
		" p99 \($rt.runq_latency.p99_ns | us) max \($rt.runq_latency.max_ns | us); CPU hogs p99 \($hog.p99_ns | us);" +
		" ran before its outliers: " + ([$s.neighbours[]? | select(.comm == "rt_fifo50") |
			if .neighbour_irq then "interrupt \(.neighbour_irq)" else .neighbour_comm end] |
			unique | join(", ") | if . == "" then "-" else . end)' "$res/rt-sched-report" 2>/dev/null); then
		ok "$line"
	else
		bad "rt-sched: the SCHED_FIFO task rt_fifo50 has no run-queue waits in the sched report"
	fi
fi

# bench: exit status and a well-formed result with a throughput per figure
if [ "$(rc_of bench)" != 0 ]; then
	bad "disco bench exited $(rc_of bench)"
	show_err bench
elif ! jq -e '.schema == "disco.bench/1" and (.workloads | length > 0) and
	      ([.workloads[] | .median > 0] | all)' "$res/bench-json" >/dev/null 2>&1; then
	bad "disco bench --json is not a well-formed disco.bench/1 result"
else
	ok "bench: $(jq -r '[.workloads | to_entries[] | "\(.key) \(.value.median | floor)/s" +
		(if .value.latency_p99_ns then " p99 \(.value.latency_p99_ns.median | floor)ns" else "" end)] | join(", ")' "$res/bench-json")"
	jq -r '.workloads | to_entries[] | select(.value.latency_unavailable) |
		"'"$pfx"'note: bench \(.key): latency unavailable: \(.value.latency_unavailable)"' "$res/bench-json"
fi
[ "$fails" = 0 ]
