# SPDX-License-Identifier: GPL-2.0-or-later
# passwd_retry CMD...: run useradd, userdel, groupadd or usermod, trying again
# while another process holds the lock on /etc/passwd or /etc/group (tests
# that run at the same time create and remove their users too). Sourced by
# tests/security/security-lib.sh and tests/slurm/lib.sh.
passwd_retry() {
	local i out
	for i in $(seq 1 120); do
		if out=$("$@" 2>&1); then
			[ -z "$out" ] || printf '%s\n' "$out" >&2
			return 0
		fi
		case $out in
		*lock*) sleep 0.5 ;;
		*)
			printf '%s\n' "$out" >&2
			return 1
			;;
		esac
	done
	printf '%s\n' "$out" >&2
	return 1
}

# passwd_user_add NAME: a fresh user NAME with a group of its name and the home
# /tmp/NAME.home. uids are reused once a user is removed, so what an earlier
# user of the same uid left at the top of /tmp (det-launch's /tmp/det-podman-UID,
# /tmp/det-oci-UID) is removed first: the new user starts with none of it.
passwd_user_add() {
	local name=$1 uid
	passwd_retry useradd --create-home --home-dir "/tmp/$name.home" --shell /bin/sh \
		--user-group "$name" || return 1
	uid=$(id -u "$name") || return 1
	find /tmp -mindepth 1 -maxdepth 1 -uid "$uid" ! -name "$name.home" -exec rm -rf {} + 2>/dev/null
	return 0
}

# passwd_user_remove NAME: its processes, what it owns at the top of /tmp, its
# account and home. The files go while the uid is still NAME's: removed after
# userdel, they could be those of a user another test has just made with the
# same uid.
passwd_user_remove() {
	local name=$1 uid
	uid=$(id -u "$name" 2>/dev/null) || return 0
	# userdel refuses a user who still has processes, and a killed one takes a
	# moment to go: kill until none is left (30 s at most).
	for _ in $(seq 1 150); do
		pkill -KILL -u "$uid" 2>/dev/null || break
		sleep 0.2
	done
	find /tmp -mindepth 1 -maxdepth 1 -uid "$uid" -exec rm -rf {} + 2>/dev/null
	passwd_retry userdel --remove "$name" 2>/dev/null
	rm -rf "/tmp/$name.home"
	return 0
}
