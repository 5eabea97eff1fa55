#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GET /checkpoints/UUID/download (the web UI's checkpoint download link) against
# a real root det-master and two real Unix users: the owner gets a tar of the
# checkpoint's regular files and directories; a symlink in the checkpoint to a
# root-only file or directory is left out (its target never read); a root-only
# file inside the directory is refused, because the archive is read as the
# owner; another user who may not read the experiment gets 404, as does an
# unknown uuid; the size and entry limits answer 413 naming their keys.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root

make_user A B || exit 1
homeA=/tmp/$A.home
# Tasks only sleep: the test speaks the trial side itself with the claim's token.
cat >"$work/launch.sh" <<'EOF'
#!/bin/sh
exec sleep 600
EOF
chmod 0755 "$work/launch.sh"
launcher=$work/launch.sh
cat >"$work/master.yaml" <<'YAML'
limits:
  checkpoint_download_max_mib: 1
  checkpoint_download_max_entries: 20
YAML
start_master --config "$work/master.yaml" --storage-root "~"
check "master starts" test -n "$port"

# usock USER METHOD PATH [BODY]: a request over the socket as USER; status to
# stdout, body in $work/body, headers in $work/headers.
usock() {
	local u=$1
	shift
	as_user "$u" curl -s -D "$work/headers" -o "$work/ubody" -w '%{http_code}' \
		--unix-socket "$work/m.sock" -X "$1" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "http://localhost/api/v1$2"
	cp "$work/ubody" "$work/body"
}
: >"$work/headers" && : >"$work/ubody" && chmod 0666 "$work/headers" "$work/ubody"

eq "A creates a workspace" 200 "$(usock "$A" POST /workspaces '{"name": "a-space"}')"
ws=$(body .workspace.id)
eq "A adds a project" 200 "$(usock "$A" POST "/workspaces/$ws/projects" '{"name": "p"}')"
proj=$(body .project.id)
cat >"$work/exp.yaml" <<YAML
name: ckpt-download
entrypoint: "true"
searcher: {name: single, metric: val_loss, max_length: {batches: 100000}}
checkpoint_storage: {type: shared_fs, host_path: $homeA/ck}
YAML
jq -n --rawfile c "$work/exp.yaml" --arg p "$proj" '{config: $c, activate: true, project: $p}' \
	>"$work/req.json"
chmod 0644 "$work/req.json"
eq "A creates an experiment in it" 200 "$(usock "$A" POST /experiments @"$work/req.json")"
e=$(body .id)
eq "A claims its trial" 200 "$(usock "$A" POST "/experiments/$e/claim" '{"array_task": 0}')"
tid=$(body .trial_id)
tok=$(body .token)

# register UUID: a checkpoint of the trial (files are made by the caller); its path to stdout.
register() {
	http POST "/trials/$tid/checkpoints" \
		"{\"uuid\": \"$1\", \"steps_completed\": 1, \"metadata\": {}, \"files\": []}" "$tok" >/dev/null
	usock "$A" GET "/checkpoints/$1" >/dev/null
	body .path
}
# listing: the archive's entries (tar -t), sorted.
listing() { tar -tf "$work/ubody" | sort | tr '\n' ' '; }

# --- the owner downloads its checkpoint ---
u1=cccccccc-0000-4000-8000-000000000001
p1=$(register "$u1")
as_user "$A" mkdir -p "$p1/sub"
as_user "$A" sh -c "echo weights >'$p1/w.bin'; echo nested >'$p1/sub/n.txt'"
eq "A downloads its checkpoint → 200" 200 "$(usock "$A" GET "/checkpoints/$u1/download")"
check "it is a tar" grep -qi '^content-type: application/x-tar' "$work/headers"
check "named after the checkpoint" grep -qi "content-disposition: attachment; filename=\"checkpoint-$u1.tar\"" "$work/headers"
eq "it holds the files and the subdirectory" "./sub/ ./sub/n.txt ./w.bin " "$(listing)"
eq "with their contents" nested "$(tar -xOf "$work/ubody" ./sub/n.txt)"

# --- a symlink to a root-only file or directory is left out, never followed ---
mkdir -m 0700 "$work/rootonly"
echo root-secret >"$work/rootonly/secret"
chmod 0600 "$work/rootonly/secret"
echo root-secret2 >"$work/secret2"
chmod 0600 "$work/secret2"
u2=cccccccc-0000-4000-8000-000000000002
p2=$(register "$u2")
as_user "$A" mkdir -p "$p2"
as_user "$A" sh -c "echo ok >'$p2/w.bin'"
as_user "$A" ln -s "$work/secret2" "$p2/leak"
as_user "$A" ln -s "$work/rootonly" "$p2/leakdir"
eq "a checkpoint with symlinks to root's files → 200" 200 "$(usock "$A" GET "/checkpoints/$u2/download")"
eq "only the regular file is in it" "./w.bin " "$(listing)"
check "no root secret in the archive" sh -c "! grep -q root-secret '$work/ubody'"
check "it says two entries were left out" grep -qi '^x-det-skipped-entries: 2' "$work/headers"

# --- a root-only file inside the directory: read as A, so refused, not leaked ---
u3=cccccccc-0000-4000-8000-000000000003
p3=$(register "$u3")
as_user "$A" mkdir -p "$p3"
echo root-secret3 >"$p3/root.bin"
chmod 0600 "$p3/root.bin"
eq "a file A may not read → 403" 403 "$(usock "$A" GET "/checkpoints/$u3/download")"
check "the refusal names the file" grep -q "root.bin: Permission denied" "$work/body"
check "no secret in the refusal" sh -c "! grep -q root-secret3 '$work/body'"

# --- the other user, unknown uuids, no credential ---
eq "B may not read A's experiment → 404" 404 "$(usock "$B" GET "/checkpoints/$u1/download")"
check "... and gets no archive" sh -c "! grep -q weights '$work/body'"
u6=cccccccc-0000-4000-8000-000000000006
register "$u6" >/dev/null
eq "a registered checkpoint whose directory is gone → 410" 410 "$(usock "$A" GET "/checkpoints/$u6/download")"
eq "an unknown uuid → 404" 404 "$(usock "$A" GET "/checkpoints/cccccccc-0000-4000-8000-0000000000ff/download")"
eq "no credential → 401" 401 "$(http GET "/checkpoints/$u1/download")"
eq "the trial's token is not a user → 403" 403 "$(http GET "/checkpoints/$u1/download" '' "$tok")"

# --- limits ---
u4=cccccccc-0000-4000-8000-000000000004
p4=$(register "$u4")
as_user "$A" mkdir -p "$p4"
as_user "$A" sh -c "for i in \$(seq 30); do echo \$i >'$p4/f'\$i; done"
eq "more entries than checkpoint_download_max_entries → 413" 413 "$(usock "$A" GET "/checkpoints/$u4/download")"
check "the error names the key" grep -q "limits.checkpoint_download_max_entries" "$work/body"
u5=cccccccc-0000-4000-8000-000000000005
p5=$(register "$u5")
as_user "$A" mkdir -p "$p5"
as_user "$A" dd if=/dev/zero of="$p5/big.bin" bs=1M count=2 status=none
eq "more bytes than checkpoint_download_max_mib → 413" 413 "$(usock "$A" GET "/checkpoints/$u5/download")"
check "the error names the key" grep -q "limits.checkpoint_download_max_mib" "$work/body"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
