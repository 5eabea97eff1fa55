#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# MUNGE identity over TCP: with no token and no password, det sends a fresh
# MUNGE credential with every request and the master knows the caller by
# uid; another user cannot act on root's experiments; a replayed credential
# is refused; without munged det says how to log in instead.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
command -v runuser >/dev/null || skip_all "runuser not found"
slurm_start_with_master
tap_plan 8

sock=$test_dir/cluster/munge/munge.socket
root_det() {
	env -u DET_TOKEN DET_MASTER="$det_master_url" DET_MUNGE_SOCKET="$sock" "$top_builddir/cli/det" "$@"
}
check_eq "root over TCP is the admin user" "admin (admin)" "$(root_det user whoami 2>&1)"
mkdir -p "$test_dir/nobody-home" && chown nobody "$test_dir/nobody-home"
nobody_det() {
	runuser -u nobody -- env -u DET_TOKEN HOME="$test_dir/nobody-home" \
		DET_MASTER="$det_master_url" DET_MUNGE_SOCKET="$sock" "$top_builddir/cli/det" "$@"
}
check_eq "another user is who munged says" nobody "$(nobody_det user whoami 2>&1)"

# root's experiment: nobody sees it and cannot stop it.
body=$(jq -n --rawfile c "$(tiny_model)/grid.yaml" '{config: $c, submit: "client"}')
det_api POST /experiments "$body" >/dev/null
e=$(det_body .id)
nobody_det experiment describe "$e" >"$test_dir/describe.out" 2>&1
check "nobody can describe root's experiment" test $? = 0
nobody_det experiment kill "$e" >"$test_dir/kill.out" 2>&1
check "nobody cannot kill root's experiment" test $? -ne 0
det_api GET "/experiments/$e" >/dev/null
check_eq "and it is still active" ACTIVE "$(det_body .experiment.state)"

# munged refuses to decode a credential twice: the master refuses the replay.
cred=$(munge -S "$sock" -n)
me() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Munge $cred" "$det_master_url/api/v1/me"; }
first=$(me)
check_eq "a credential works once" 200 "$first"
check_eq "a replayed credential is refused" 401 "$(me)"

env -u DET_TOKEN DET_MASTER="$det_master_url" DET_MUNGE_SOCKET="$test_dir/none" HOME="$test_dir/nobody-home" \
	"$top_builddir/cli/det" user whoami >"$test_dir/nomunge.out" 2>&1
check "without munged det fails and says how to log in" \
	grep -q "det user login" "$test_dir/nomunge.out"
tap_done
