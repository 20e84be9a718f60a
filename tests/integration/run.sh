#!/usr/bin/env bash
# Runs every tests/integration/test_*.sh (root + BPF). Exit 77 means skipped.
# Prints the plain "N passed, N failed" closing line CI reads.
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0 skip=0 failed=()
for t in tests/integration/test_*.sh; do
	[ -e "$t" ] || continue
	[ -n "${ONLY:-}" ] && [[ "$t" != *"$ONLY"* ]] && continue
	echo "== $t"
	start=$(date +%s)
	bash "$t"
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "   ok (${secs}s)";;
	77) skip=$((skip + 1)); echo "   skipped";;
	*) fail=$((fail + 1)); failed+=("$t"); echo "   FAILED rc=$rc (${secs}s)";;
	esac
done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
