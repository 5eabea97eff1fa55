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
