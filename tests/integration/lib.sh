# Shared helpers for integration tests (sourced). Each test gets a private
# temp dir, removed on exit together with anything registered in CLEANUP.
set -u
DISCO=${DISCO:-$PWD/disco}
FIXTURES=${FIXTURES:-$PWD/.output/fixtures}
T=$(mktemp -d /tmp/disco-test.XXXXXX)
CLEANUP=()
cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap cleanup EXIT
on_exit() { CLEANUP+=("$*"); }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
# jq query that must succeed: jqv FILE FILTER
jqv() { jq -er "$2" "$1" || fail "jq '$2' on $1"; }
# assert_ge NAME VALUE MIN ; assert_le NAME VALUE MAX
assert_ge() { awk -v v="$2" -v m="$3" 'BEGIN{exit !(v+0 >= m+0)}' || fail "$1 = $2, expected >= $3"; }
assert_le() { awk -v v="$2" -v m="$3" 'BEGIN{exit !(v+0 <= m+0)}' || fail "$1 = $2, expected <= $3"; }
assert_eq() { [ "$2" = "$3" ] || fail "$1 = '$2', expected '$3'"; }
# wait_exit PID SECS WHAT: the exit status of the background job PID; one
# still running after SECS is killed and fails the test (never hangs)
wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1"
		wait "$1" 2>/dev/null
		fail "$3: still running after $2 s"
	fi
	wait "$1"
}
# wait_for SECS WHAT CMD...: until CMD succeeds, polled every 0.1 s; fails
# the test after SECS
wait_for() {
	local i secs=$1 what=$2
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "$what: not within $secs s"
}
# cpu_share JSON FUNC [COMM]: percent of the cpu samples of COMM (default
# stack_fixture) whose stack has function FUNC
cpu_share() {
	jq -r --arg f "$2" --arg comm "${3:-stack_fixture}" '.collectors.cpu as $c
		| [$c.stacks[] | select(.comm == $comm)] as $s
		| ([$s[].count] | add) as $all
		| ([$s[] | select([.frames[].sym] | index($f)) | .count] | add // 0) * 100 / $all' "$1"
}
# assert_split JSON LABEL [COMM]: the 3:1 stack_fixture run of COMM was
# sampled at least 200 times, 75% (+-5 points) in hot_three_quarters and
# 25% (+-5) in cold_one_quarter
assert_split() {
	local comm=${3:-stack_fixture} hot cold n
	hot=$(cpu_share "$1" hot_three_quarters "$comm")
	cold=$(cpu_share "$1" cold_one_quarter "$comm")
	n=$(jq --arg comm "$comm" '[.collectors.cpu.stacks[] | select(.comm == $comm) | .count] | add' "$1")
	echo "$2: $n samples, hot_three_quarters ${hot}%, cold_one_quarter ${cold}%"
	assert_ge "$2: samples" "$n" 200
	assert_ge "$2: hot share" "$hot" 70
	assert_le "$2: hot share" "$hot" 80
	assert_ge "$2: cold share" "$cold" 20
	assert_le "$2: cold share" "$cold" 30
}
