#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Execution as the owner: a det-master running as root with the local
# resource manager and the real det-launch runs a second Unix user's trial
# as that user (uid, gid, supplementary groups, home, a clean environment),
# not as root; a det user without a Unix account cannot create experiments.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_det_launch

make_user U || exit 1
make_group group "$U" || exit 1
# Something only the master's environment holds: it must not reach the trial.
export OWNER_TEST_MARKER=from-the-master
start_master --storage-root "$work"

# The user's experiment writes what it runs as into a directory of its own.
mkdir -p "$work/out" "$work/ckpt" "$work/model"
chown "$U:" "$work/out" "$work/ckpt"
chmod 0700 "$work/out" "$work/ckpt"
cat >"$work/model/probe.sh" <<'SH'
out=$1
{
	echo "uid $(id -u)"
	echo "gid $(id -g)"
	echo "groups $(id -G | tr ' ' '\n' | sort -n | tr '\n' ' ')"
	echo "home $HOME"
	echo "user $USER $LOGNAME"
	if [ -r /etc/shadow ]; then echo "shadow readable"; else echo "shadow unreadable"; fi
	echo "marker ${OWNER_TEST_MARKER:-unset}"
	echo "masterfds $(ls -l /proc/$$/fd/ 2>/dev/null | grep -c -e master.db -e m.sock)"
} >"$out/probe.tmp" && mv "$out/probe.tmp" "$out/probe"
SH
cat >"$work/probe.yaml" <<YAML
name: probe
entrypoint: [sh, probe.sh, $work/out]
searcher: {name: single, metric: m, max_length: {batches: 1}}
checkpoint_storage: {type: shared_fs, host_path: $work/ckpt}
max_restarts: 0
YAML
as_user "$U" env DET_MASTER="unix:$work/m.sock" "$det" experiment create "$work/probe.yaml" \
	"$work/model" >"$work/create.out" 2>&1
ok $? "a second Unix user creates an experiment over the socket with det"
id=$(sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$work/create.out")
uid_me=$(as_user "$U" curl -s --unix-socket "$work/m.sock" http://localhost/api/v1/me | jq .id)
sock GET "/experiments/$id" >/dev/null
eq "the experiment is the user's" "$uid_me" "$(body .experiment.owner_id)"
for _ in $(seq 600); do
	[ -e "$work/out/probe" ] && break
	sleep 0.1
done
check "its trial ran (within 60 s)" test -e "$work/out/probe"
val() { sed -n "s/^$1 //p" "$work/out/probe"; }
eq "the trial runs as the user's uid" "$(id -u "$U")" "$(val uid)"
eq "... with the user's gid" "$(id -g "$U")" "$(val gid)"
eq "... and the user's groups (supplementary ones too)" \
	"$(id -G "$U" | tr ' ' '\n' | sort -n | tr '\n' ' ')" "$(val groups)"
eq "... with the user's home" "/tmp/$U.home" "$(val home)"
eq "... USER and LOGNAME" "$U $U" "$(val user)"
eq "... and cannot read /etc/shadow" unreadable "$(val shadow)"
eq "the master's environment does not reach the trial" unset "$(val marker)"
eq "... nor its open files (database, sockets)" 0 "$(val masterfds)"
ended() {
	sock GET "/experiments/$id" >/dev/null
	case $(body .experiment.state) in COMPLETED | ERROR | CANCELED) return 0 ;; esac
	return 1
}
for _ in $(seq 600); do ended && break; sleep 0.1; done
check "the experiment ends (within 60 s)" ended

# A det user created with a password has no Unix account: nothing of theirs
# can run under a root master's local manager.
sock POST /users '{"username": "tcponly", "password": "tcp-only-secret"}' >/dev/null
tok=$(curl -s -X POST -d '{"username": "tcponly", "password": "tcp-only-secret"}' \
	"$base/auth/login" | jq -r '.token // empty')
jq -n --rawfile c "$work/probe.yaml" '{config: $c, activate: true}' >"$work/req.json"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $tok" \
	-H 'Content-Type: application/json' --data-binary @"$work/req.json" "$base/experiments")
eq "a TCP-only user's experiment is refused" 403 "$code"
check "... saying why" grep -q "no Unix account" "$work/body"
sock GET /experiments >/dev/null
eq "... and nothing was created" 1 "$(body '.experiments | length')"

stop_master
echo "1..$tap_n"
exit $((tap_failed > 0))
