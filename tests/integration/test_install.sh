#!/usr/bin/env bash
# make install DESTDIR=... puts the expected tree in place (the binary
# beside its preload library, the man page, completion, dashboard, rules,
# a hardened systemd unit that systemd-analyze verify accepts), the
# installed binary runs, and make uninstall takes it all away again.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "needs systemd-analyze (package systemd)"
D=$T/root
make -s install DESTDIR="$D" PREFIX=/usr > "$T/install.log" 2>&1 || { cat "$T/install.log"; fail "make install"; }
(cd "$D" && find . -type f -o -type l | sort) > "$T/tree"
cat > "$T/want" <<'LIST'
./usr/lib/disco/disco
./usr/lib/disco/libdisco-alloc.so
./usr/lib/systemd/system/disco-serve.service
./usr/sbin/disco
./usr/share/bash-completion/completions/disco
./usr/share/disco/grafana/disco.json
./usr/share/disco/prometheus/disco-rules.test.yml
./usr/share/disco/prometheus/disco-rules.yml
./usr/share/man/man8/disco.8
LIST
diff -u "$T/want" "$T/tree" || fail "installed tree differs"
[ -x "$D/usr/lib/disco/disco" ] || fail "binary not executable"
assert_eq "sbin/disco" "$(readlink "$D/usr/sbin/disco")" "../lib/disco/disco"
"$D/usr/sbin/disco" --version > /dev/null || fail "installed disco does not run"
jq -e '.templating.list[] | select(.type == "datasource")' "$D/usr/share/disco/grafana/disco.json" >/dev/null ||
	fail "dashboard has no datasource variable"
if command -v promtool >/dev/null; then
	promtool test rules "$D/usr/share/disco/prometheus/disco-rules.test.yml" || fail "installed rules"
fi
U=$D/usr/lib/systemd/system/disco-serve.service
grep -q '^ExecStart=/usr/sbin/disco serve --listen ${DISCO_LISTEN}' "$U" || fail "ExecStart not at PREFIX"
grep -q '^Environment=DISCO_LISTEN=127.0.0.1:9464$' "$U" || fail "unit does not listen on loopback by default"
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=read-only PrivateTmp=yes StateDirectory=disco \
	 'CapabilityBoundingSet=CAP_BPF CAP_PERFMON '; do
	grep -q "^$k" "$U" || fail "unit lacks $k"
done
# verify the unit as installed, its binary and man page taken from DESTDIR
mkdir -p "$T/verify"
sed "s|^ExecStart=/usr/sbin/|ExecStart=$D/usr/sbin/|" "$U" > "$T/verify/disco-serve.service"
MANPATH=$D/usr/share/man systemd-analyze verify "$T/verify/disco-serve.service" 2> "$T/verify.err" ||
	{ cat "$T/verify.err"; fail "systemd-analyze verify"; }
[ -s "$T/verify.err" ] && { cat "$T/verify.err"; fail "systemd-analyze verify warns"; }
bash -n "$D/usr/share/bash-completion/completions/disco" || fail "completion script"
# the completion offers the commands and a command's options
words=$(PATH=$D/usr/sbin:$PATH bash -c ". $D/usr/share/bash-completion/completions/disco
	COMP_WORDS=(disco se); COMP_CWORD=1; _disco; echo \${COMPREPLY[*]}
	COMP_WORDS=(disco serve --max); COMP_CWORD=2; _disco; echo \${COMPREPLY[*]}")
echo "$words" | grep -qx 'serve' || fail "completion of 'se': $words"
echo "$words" | grep -qx -- '--max-series' || fail "completion of 'serve --max': $words"
make -s uninstall DESTDIR="$D" PREFIX=/usr > "$T/uninstall.log" 2>&1 || fail "make uninstall"
left=$(cd "$D" && find . -type f -o -type l)
assert_eq "files left after uninstall" "$left" ""
echo "ok: install tree, unit verified, uninstall clean"
