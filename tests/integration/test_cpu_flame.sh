#!/usr/bin/env bash
# Outputs of the stack collectors: --format folded parses line by line and
# adds up to the sample total; --diff of two sessions of the fixture with
# the split reversed shows the hot function shrinking and the cold one
# growing; the HTML report has a flame graph naming both functions that
# headless Chromium renders without console errors (a click zooms).
# Screenshots: .output/artifacts/cpu_flame/.
. "$(dirname "$0")/lib.sh"
need_root
F=$FIXTURES/stack_fixture
ART=${DISCO_ARTIFACTS:-$PWD/.output/artifacts}/cpu_flame
mkdir -p "$ART" || fail "cannot create $ART"

"$DISCO" record -e cpu -F 299 -q -o "$T/a.data" -- "$F" cpu 3 3 1 || fail "record a failed"
"$DISCO" record -e cpu -F 299 -q -o "$T/b.data" -- "$F" cpu 3 1 3 || fail "record b failed"

# folded: every line is "frames count", counts add up to the samples
"$DISCO" report "$T/a.data" --format folded > "$T/a.folded" || fail "report --format folded"
bad=$(grep -cvE '^[^ ;]+(;[^ ;]+)* [0-9]+$' "$T/a.folded")
assert_eq "folded lines that do not parse" "$bad" 0
sum=$(awk '{ s += $NF } END { print s }' "$T/a.folded")
total=$(("$DISCO" report "$T/a.data" --format json) | jq '.collectors.cpu.samples - .collectors.cpu.omitted_samples')
assert_eq "sum of folded counts" "$sum" "$total"
grep -q '^stack_fixture;.*;main;hot_three_quarters [0-9]*$' "$T/a.folded" || fail "no folded stack main;hot_three_quarters"

# diff: hot shrank (3:1 -> 1:3), cold grew
"$DISCO" report --diff "$T/a.data" "$T/b.data" --format folded > "$T/d.folded" || fail "report --diff folded"
read -r hb ha < <(awk '$1 ~ /;main;hot_three_quarters$/ { print $2, $3 }' "$T/d.folded")
read -r cb ca < <(awk '$1 ~ /;main;cold_one_quarter$/ { print $2, $3 }' "$T/d.folded")
echo "hot $hb -> $ha, cold $cb -> $ca samples"
assert_ge "hot before/after" "$hb" "$(( ha * 2 ))"
assert_ge "cold after/before" "$ca" "$(( cb * 2 ))"
"$DISCO" report --diff "$T/a.data" "$T/b.data" > "$T/d.txt" || fail "report --diff text"
grep -E ' -[0-9.]+  .*;main;hot_three_quarters$' "$T/d.txt" >/dev/null || fail "text diff: hot not negative"
grep -E ' \+[0-9.]+  .*;main;cold_one_quarter$' "$T/d.txt" >/dev/null || fail "text diff: cold not positive"
"$DISCO" report --diff "$T/a.data" 2>/dev/null; assert_eq "--diff with one file exits" "$?" 2

# HTML: the flame graph names both functions; rendered and clicked in Chromium
"$DISCO" report "$T/a.data" --format html > "$T/r.html" || fail "report --format html"
"$DISCO" report --diff "$T/a.data" "$T/b.data" --format html > "$T/d.html" || fail "report --diff html"
for f in r d; do
	python3 - "$T/$f.html" <<'PY' || fail "$f.html: flame graph lacks the fixture's functions"
import re, sys
html = open(sys.argv[1]).read()
m = re.search(r'<svg class="flame".*?</svg>', html, re.S)
assert m, "no flame graph"
titles = re.findall(r'<title>([^<]*)</title>', m.group(0))
for fn in ("hot_three_quarters", "cold_one_quarter", "main"):
    assert any(t.startswith(fn + " (") for t in titles), fn
PY
done
command -v chromium >/dev/null || skip "needs chromium (make deps) for the rendering half"
cp "$T/r.html" "$ART/report.html"
cp "$T/d.html" "$ART/diff.html"
# a copy that clicks the hot frame: afterwards it must span the whole width
sed 's|</body>|<pre id="z"></pre><script>(function(){var g=[].filter.call(document.querySelectorAll("svg.flame g"),function(n){return /^hot_three_quarters /.test(n.querySelector("title").textContent);})[0];g.dispatchEvent(new MouseEvent("click",{bubbles:true}));document.getElementById("z").textContent="zoomed-width="+g.querySelector("rect").getAttribute("width");})();</script></body>|' \
	"$T/r.html" > "$T/click.html"
chrome() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" --hide-scrollbars "$@"
}
for f in report diff; do
	chrome --window-size=1400,1600 --enable-logging=stderr --v=0 \
		--screenshot="$ART/$f.png" "file://$ART/$f.html" > "$T/shot.out" 2> "$T/console.txt" ||
		fail "chromium screenshot of $f: $(tail -3 "$T/console.txt")"
	[ -s "$ART/$f.png" ] || fail "no screenshot of $f"
	if grep -E 'CONSOLE|Uncaught|Refused to' "$T/console.txt"; then
		fail "console messages in $f.html"
	fi
done
chrome --window-size=1400,1600 --dump-dom "file://$T/click.html" > "$T/dom.html" 2> /dev/null ||
	fail "chromium --dump-dom"
w=$(grep -o 'zoomed-width=[0-9.]*' "$T/dom.html" | cut -d= -f2)
echo "clicked hot_three_quarters: width $w of 1200"
assert_ge "zoomed frame width" "${w:-0}" 1199
echo ok
