#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Per-user quotas (issue 10): with limits.max_active_trials,
# limits.max_active_experiments and limits.user_requests_per_second set, a
# user over a limit gets 429 with a message naming it, while another det user
# is not affected. The second user is a real Unix user on the socket (a
# password-only det user cannot create experiments on a root master's local
# manager: doc/security.md). Admins are made subject to the limits here
# (exempt_admins: false) so that the trial runs as root under any policy.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
need_root

# Checkpoints in a directory every test user may write (a storage root: the
# default checkpoint storage's host_path always is one).
mkdir -m 1777 "$work/ckpt"
cat >"$work/master.yaml" <<YAML
checkpoint_storage: {type: shared_fs, host_path: $work/ckpt}
limits:
  exempt_admins: false
  max_active_experiments: 2
  max_active_trials: 1
  user_requests_per_second: 20
  user_request_burst: 40
YAML
start_master --config "$work/master.yaml"
check "master starts with quotas" test -n "$port"
admin_login admin
make_user ub || exit 1
bob=bob
bob_http() { # METHOD PATH [BODY]: as the Unix user ub over the socket; status code, body in $work/body
	as_user "$ub" curl -s -w '\n%{http_code}' --unix-socket "$work/m.sock" -X "$1" \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "http://localhost/api/v1$2" \
		>"$work/bobout"
	head -n -1 "$work/bobout" >"$work/body"
	tail -n 1 "$work/bobout"
}

exp_body() { # NAME ACTIVATE [ENV]
	printf 'name: %s\nentrypoint: python3 train.py\nsearcher: {name: single, metric: val_loss, max_length: {batches: 1000}}\n%s\n' \
		"$1" "${3:-}" >"$work/q.yaml"
	jq -cn --rawfile c "$work/q.yaml" --argjson a "$2" '{config: $c, activate: $a}'
}
create() { # TOKEN NAME ACTIVATE [ENV]: status code, body in $work/body
	local code i
	for i in $(seq 50); do # only the request rate may refuse: retry that
		if [ "$1" = bob ]; then
			code=$(bob_http POST /experiments "$(exp_body "$2" "$3" "${4:-}")")
		else
			code=$(http POST /experiments "$(exp_body "$2" "$3" "${4:-}")" "$1")
		fi
		[ "$code" = 429 ] && body .error.message | grep -q user_requests_per_second || break
		sleep 0.2
	done
	echo "$code"
}

eq "admin creates a paused experiment" 200 "$(create "$admin" paused false)"
paused=$(body .id)
eq "admin starts a long experiment" 200 \
	"$(create "$admin" long true 'environment: {environment_variables: [FAKE_STEPS=1000, FAKE_SLEEP=0.2]}')"
e1=$(body .id)
running=
for _ in $(seq 600); do
	sock GET "/experiments/$e1/trials" >/dev/null
	[ "$(body '.trials[0].state')" = ACTIVE ] && running=1 && break
	sleep 0.1
done
check "its trial runs" test -n "$running"
eq "a new experiment over max_active_trials → 429" 429 "$(create "$admin" second false)"
check "the 429 names limits.max_active_trials" grep -q 'limits.max_active_trials' "$work/body"
code=
for _ in $(seq 50); do
	code=$(http POST "/experiments/$paused/activate" '' "$admin")
	[ "$code" = 429 ] && body .error.message | grep -q user_requests_per_second || break
	sleep 0.2
done
eq "activating a paused experiment over max_active_trials → 429" 429 "$code"
eq "another user is not affected" 200 "$(create "$bob" b1 false)"
eq "bob's second experiment" 200 "$(create "$bob" b2 false)"
eq "bob's third (over max_active_experiments) → 429" 429 "$(create "$bob" b3 false)"
check "the 429 names limits.max_active_experiments" grep -q 'limits.max_active_experiments' "$work/body"

# Request rate: 600 requests in a row on one connection (URL globbing), each
# answer with its headers in its own file.
mkdir "$work/burst"
chown "$ub" "$work/burst"
as_user "$ub" curl -s -i --unix-socket "$work/m.sock" "http://localhost/api/v1/me?n=[1-600]" \
	-o "$work/burst/r#1"
n200=$(grep -l '^HTTP/[0-9.]* 200' "$work"/burst/r* | wc -l)
n429=$(grep -l '^HTTP/[0-9.]* 429' "$work"/burst/r* | wc -l)
echo "# 600 requests in a row: $n200 × 200, $n429 × 429"
check "the burst is served" test "$n200" -ge 40
check "over user_requests_per_second → 429" test "$n429" -gt 0
r=$(grep -l '^HTTP/[0-9.]* 429' "$work"/burst/r* | head -n 1)
check "the rate 429 carries Retry-After" grep -qi '^retry-after: [1-9]' "$r"
check "the rate 429 names limits.user_requests_per_second" grep -q user_requests_per_second "$r"
sleep 3
eq "after a pause bob is served again" 200 "$(bob_http GET /me)"

# Ending the running trial frees the quota.
code=
for _ in $(seq 50); do
	code=$(http POST "/experiments/$e1/kill" '' "$admin")
	[ "$code" != 429 ] && break
	sleep 0.2
done
eq "admin kills the long experiment" 200 "$code"
ended=1
for _ in $(seq 600); do
	sock GET "/experiments/$e1" >/dev/null
	case $(body .experiment.state) in COMPLETED | CANCELED | ERROR) ended=0 && break ;; esac
	sleep 0.1
done
ok $ended "it ends"
eq "then admin may create again" 200 "$(create "$admin" again false)"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
