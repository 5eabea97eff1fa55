#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Notebooks and shells on Slurm (det-master --rm slurm), as a non-root user:
# det notebook start --idle-timeout 40 prints a URL and runs one job
# det-t<ID> of that user; in headless Chromium (tests/slurm/notebook.mjs),
# logged in to the web UI as that user, the URL loads Jupyter through the
# master and a kernel prints socket.gethostname() and SLURMD_NODENAME (the
# test cluster's nodes n1..n4 share this host's name: the node is told by
# SLURMD_NODENAME, which must be the node squeue names); with the browser
# closed the notebook ends TERMINATED, reason idle, and leaves squeue. A
# shell's det shell open reaches the job's node through the master's tunnel.
# A second user gets 403 on the notebook's URL and the shell's tunnel, 404 on
# the shell's ssh-key. Skips without chromium, node, npm, jupyter or sshd.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_users_require
[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null || skip_all "sshd or ssh not found"
[ -x /usr/bin/jupyter ] && /usr/bin/python3 -c 'import notebook, ipykernel' 2>/dev/null ||
	skip_all "jupyter-notebook or python3-ipykernel is missing"
[ "$(id -u)" = 0 ] || skip_all "needs root (creates Unix users)"
srcdir=$(cd "$slurm_tests_dir/../.." && pwd)
. "$srcdir/tests/web/playwright.sh"
web_playwright "$srcdir" "$top_builddir" || skip_all "$web_why"

# The nodes run the launcher from this tree (the cluster's nodes share this host's files).
det_master_yaml="notebook_launcher: $srcdir/share/det-notebook-launch"
slurm_start_with_master --webui-dir "$srcdir/webui"
tap_plan 17
slurm_new_user U || exit 1
slurm_new_user V || exit 1
# login USER: a password of the user's own (det user change-password over MUNGE), then
# a bearer token for it in tok.
login() {
	local pw=pw-$1-$RANDOM$RANDOM
	printf '%s\n' "$pw" | as_det "$1" user change-password --password-stdin >/dev/null 2>&1 || return 1
	tok=$(curl -s -X POST -H 'Content-Type: application/json' \
		--data-binary "{\"username\":\"$1\",\"password\":\"$pw\"}" "$det_master_url/api/v1/auth/login" |
		jq -r .token)
	[ -n "$tok" ] && [ "$tok" != null ] && printf '%s\n' "$pw" >"$test_dir/$1.pw"
}
as_v() { # METHOD PATH [CURL ARGS...]: V's HTTP status for it, with V's bearer token
	local m=$1 p=$2
	shift 2
	curl -s -o "$test_dir/v.body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $vtok" "$@" \
		"$det_master_url$p"
}
login "$V" && vtok=$tok
check "a second user logs in with a password of their own" test -n "$vtok"
login "$U"
check "the notebook's owner too (for the browser)" test -s "$test_dir/$U.pw"

url=$(as_det "$U" notebook start --idle-timeout 40 2>"$test_dir/start.err")
id=$(sed -n 's/^det: notebook //p' "$test_dir/start.err")
check_eq "det notebook start --idle-timeout 40 as a user prints its URL" "$det_master_url/proxy/$id/" "$url"
[ -n "$id" ] || diag "$(cat "$test_dir/start.err")"
line=$(squeue -h -n "det-t$id" -o '%u %N %k' 2>/dev/null)
read -r job_user node comment <<<"$line"
check_eq "... it is one Slurm job det-t$id of that user" "1 $U" \
	"$(squeue -h -n "det-t$id" -o %i | wc -l) $job_user"
check "... on a node squeue names" test -n "$node"
check_eq "... its comment names the kind" "det-slurm task $id (notebook)" \
	"$(squeue -h -n "det-t$id" -o %k 2>/dev/null)"
check_eq "the second user gets 403 on the notebook's URL" 403 "$(as_v GET "/proxy/$id/api/status")"

artifacts=$top_builddir/tests/slurm/artifacts
mkdir -p "$artifacts"
BASE_URL=$det_master_url NB_URL=$url PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$test_dir/chromium-profile ARTIFACTS=$artifacts USER_NAME=$U \
	USER_PW=$(cat "$test_dir/$U.pw") WANT="$(hostname) $node" \
	web_node_tap 240 "$slurm_tests_dir/notebook.mjs" "$test_dir"

check "with the browser closed the notebook ends (idle 40 s; 240 s)" wait_task "$id" TERMINATED 240
check_eq "... with reason idle" idle "$(det_body .task.end_reason)"
task_job_gone "$id"
check_eq "... and its job leaves squeue" "" "$(squeue -h -n "det-t$id" -o %i 2>/dev/null)"

sid=$(as_det "$U" -o json shell start --detach 2>"$test_dir/shell.err" | jq -r .id)
[ -n "$sid" ] || diag "$(cat "$test_dir/shell.err")"
wait_task "$sid" RUNNING >/dev/null
snode=$(squeue -h -n "det-t$sid" -o %N 2>/dev/null)
# shellcheck disable=SC2016 # expanded by the session's shell
out=$(as_det "$U" shell open "$sid" -- 'echo $(hostname) $SLURMD_NODENAME' 2>"$test_dir/open.err")
[ -n "$out" ] || diag "$(cat "$test_dir/open.err")"
check_eq "det shell open ID -- hostname runs on the shell job's node, through the master" \
	"$(hostname) $snode" "$out"
check_eq "the second user gets 404 on the shell's ssh-key" 404 "$(as_v GET "/api/v1/tasks/$sid/ssh-key")"
check_eq "... and 403 on its tunnel" 403 \
	"$(as_v GET "/proxy/$sid/" -H 'Connection: Upgrade' -H 'Upgrade: det-tcp' --max-time 20)"
as_det "$U" shell kill "$sid" >/dev/null 2>&1
tap_done
