#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det cmd run --context: the directory is unpacked as the command's owner
# (files owned by that uid) with the model definition's checks, so a context
# holding a ".." entry or a link out of the directory is refused before the
# command runs: nothing is written outside, the command never starts, and
# its task ends TERMINATED (exit 126) with the reason in its log.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_det
make_user U || exit 1
start_master
check "master starts" test -n "$port"
mkdir -m 1777 "$work/u"

as_post() { # USER BODY-FILE: POST /tasks as that user; HTTP status, body in $work/u/body
	as_user "$1" curl -s -o "$work/u/body" -w '%{http_code}' --unix-socket "$work/m.sock" \
		-X POST -H 'Content-Type: application/json' --data-binary "@$2" \
		"http://localhost/api/v1/tasks"
}
wait_ended() { # ID: until the task is TERMINATED (60 s at most)
	for _ in $(seq 600); do
		sock GET "/tasks/$1" >/dev/null
		[ "$(body .task.state)" = TERMINATED ] && return 0
		sleep 0.1
	done
	return 1
}
# tarball NAME KIND [TARGET]: a tar.gz (base64) with one entry NAME: a file, or a symlink
tarball() {
	python3 - "$@" <<'PY'
import base64, io, sys, tarfile
name, kind = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as t:
    ti = tarfile.TarInfo(name)
    if kind == "link":
        ti.type, ti.linkname = tarfile.SYMTYPE, sys.argv[3]
        t.addfile(ti)
    else:
        data = b"escaped\n"
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
print(base64.b64encode(buf.getvalue()).decode())
PY
}
body_with() { # CONTEXT-B64 MARKER: a POST /tasks body whose command touches MARKER
	jq -n --arg c "$1" --arg m "$2" '{argv: ["touch", $m], context: $c}'
}

# --- a good context: unpacked as the owner ---
mkdir -p "$work/ctx"
echo hi >"$work/ctx/f.txt"
out=$(as_user "$U" env DET_MASTER="unix:$work/m.sock" "$det" cmd run --context "$work/ctx" \
	sh -c 'stat -c %u f.txt' 2>/dev/null)
eq "a context's files belong to the command's owner" "$(id -u "$U")" "$out"

# --- hostile contexts: refused before the command runs ---
n=0
for c in "../escaped-$$ file" "a/../../escaped-$$ file" "out-$$ link /tmp/escaped-$$"; do
	n=$((n + 1))
	set -- $c
	tarball "$@" >"$work/ctx.b64"
	body_with "$(cat "$work/ctx.b64")" "$work/u/ran-$n" >"$work/body-$n.json"
	eq "context entry '$1' ($2): the task is created (201)" 201 "$(as_post "$U" "$work/body-$n.json")"
	id=$(jq -r .task.id "$work/u/body")
	check "... and ends" wait_ended "$id"
	eq "... TERMINATED with exit code 126" "TERMINATED 126" "$(body '.task | "\(.state) \(.exit_code)"')"
	sock GET "/tasks/$id/logs" >/dev/null
	check "... its log names the refused entry" bash -c "jq -r .text '$work/body' | grep -q 'context is refused: .*entry'"
	check "... the command never ran" test ! -e "$work/u/ran-$n"
	check "... nothing was written outside its directory" test ! -e "/tmp/escaped-$$"
done
check "no context directory of the user is left behind" \
	bash -c "! find /tmp -maxdepth 1 -name 'det-context-*' -user '$U' | grep -q ."

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
