# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the security tests (sourced after tests/integration/master-lib.sh):
# real second (and third) Unix users, created for one test and removed at its
# end, also when the test fails. Tests that need them skip when not root.

# need_root: skip the whole test unless it runs as root (useradd, setuid).
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root (creates Unix users, runs det-master as root)"
		exit 0
	fi
	if ! command -v useradd >/dev/null; then
		echo "1..0 # SKIP useradd is needed (package passwd)"
		exit 0
	fi
}

# need_det [PROGRAM...]: skip the whole test unless det is built (and each PROGRAM is
# executable); det's path goes into det.
need_det() {
	det=$builddir/cli/det
	if [ ! -x "$det" ]; then
		echo "1..0 # SKIP det is not built"
		exit 0
	fi
	for p in "$@"; do
		if [ ! -x "$p" ]; then
			echo "1..0 # SKIP $p is missing"
			exit 0
		fi
	done
}

# need_det_launch [PROGRAM...]: need_det, and det-launch built too; its path
# goes into launcher (the one start_master runs).
need_det_launch() {
	launcher=$builddir/launcher/det-launch
	if [ ! -x "$launcher" ]; then
		echo "1..0 # SKIP det-launch is not built"
		exit 0
	fi
	need_det "$@"
}

. "$(dirname "${BASH_SOURCE[0]}")/../passwd.sh"

sec_users=
# make_user VAR...: create a fresh Unix user with a home directory for each
# VAR; its name goes into VAR. Removed (with its home and processes) at exit.
make_user() {
	local mu_name mu_var
	for mu_var in "$@"; do
		mu_name=dt${$}x$RANDOM
		passwd_user_add "$mu_name" || return 1
		chmod 0700 "/tmp/$mu_name.home"
		sec_users="$sec_users $mu_name"
		printf -v "$mu_var" '%s' "$mu_name"
	done
}

remove_users() {
	local u
	for u in $sec_users; do
		passwd_user_remove "$u"
	done
	sec_users=
}

sec_groups=
# make_group VAR USER...: create a fresh Unix group with these users as
# members; its name goes into VAR. Removed at exit.
make_group() {
	local name=dtg${$}x$RANDOM u
	passwd_retry groupadd "$name" || return 1
	sec_groups="$sec_groups $name"
	printf -v "$1" '%s' "$name"
	for u in "${@:2}"; do
		passwd_retry usermod -a -G "$name" "$u" || return 1
	done
}
remove_groups() {
	local g
	for g in $sec_groups; do
		groupdel "$g" 2>/dev/null
	done
	sec_groups=
}

# as_user USER COMMAND...: run a command as that Unix user (its uid, gid and
# groups), with a clean environment and its home.
as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups --reset-env -- "$@"
}

# ucall USER METHOD FULL-PATH [BODY]: a request over the master's socket as USER
# (root: as this process); the status code to stdout, the body in $work/body.
# ucall_as names another runner than as_user, ucall_sock another socket.
ucall() {
	local run=("${ucall_as:-as_user}" "$1")
	[ "$1" = root ] && run=()
	shift
	"${run[@]}" curl -s -w '\n%{http_code}' --unix-socket "${ucall_sock:-$work/m.sock}" -X "$1" \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "http://localhost$2" \
		>"$work/ubody"
	tail -n 1 "$work/ubody"
	sed '$d' "$work/ubody" >"$work/body"
}

# usock USER METHOD PATH [BODY]: ucall of an /api/v1 PATH
usock() { ucall "$1" "$2" "/api/v1$3" "${4:-}"; }

# running_trial EXP: polls (60 s) until the experiment's first trial is ACTIVE;
# prints its id (also when it never became ACTIVE; nothing without a trial).
running_trial() {
	local t=
	for _ in $(seq 600); do
		sock GET "/experiments/$1/trials" >/dev/null
		t=$(body '.trials[0].id // empty')
		[ -n "$t" ] && [ "$(body '.trials[0].state')" = ACTIVE ] && break
		sleep 0.1
	done
	echo "$t"
}

# det_list_answers SECONDS: true once "$det experiment list" over TCP answers (tried
# every second, each try 30 s at most); its output in $work/list and list.err.
det_list_answers() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt "$end" ]; do
		timeout 30 "$det" -m "http://127.0.0.1:$port" experiment list >"$work/list" 2>"$work/list.err" &&
			return 0
		sleep 1
	done
	return 1
}

# Run both cleanups: the master's (master-lib.sh) and ours.
sec_cleanup() {
	cleanup
	remove_users
	remove_groups
}
trap sec_cleanup EXIT

# The test work directory must be reachable by the test users (mktemp made it 0700).
chmod 0755 "$work"
