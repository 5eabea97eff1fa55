#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Deployment from the Debian packages, as an admin does it: build them from a
# copy of the source tree (make distdir), run lintian, install them with
# dpkg -i, start det-master from the installed unit's ExecStart line (without
# systemd) on a private port, socket and state directory, run the Core API
# example of examples/python-core-api as a fresh non-root Unix user to
# COMPLETED with the shipped master.yaml unedited, check owners and modes,
# then purge the packages. The machine is left as it was found, also when a
# check fails (trap). The .debs are cached under the build tree by the hash
# of the copied sources: a second run of the same tree reuses them.
set -u
# scripts/test builds the packages in one build tree only and says why elsewhere.
if [ -n "${DET_SKIP_DEPLOY_TESTS:-}" ]; then
	echo "1..0 # SKIP $DET_SKIP_DEPLOY_TESTS"
	exit 0
fi
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/../security/security-lib.sh"
need_root
if [ -z "${DET_SLURM_SRC:-}" ]; then
	echo "1..0 # SKIP no Slurm source tree (configure --with-slurm-src): the controller package needs it"
	exit 0
fi
for tool in dpkg-buildpackage dh lintian; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..0 # SKIP $tool is missing (Debian packages dpkg-dev, debhelper, lintian)"
		exit 0
	fi
done
pkgs="det-slurm-master det-slurm-client det-slurm-compute det-slurm-controller"
for p in $pkgs; do
	if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv not-installed; then
		echo "1..0 # SKIP $p is installed on this machine: the test would replace it"
		exit 0
	fi
done
# Paths the packages own or make: the test must not take over an admin's.
for p in /etc/det-slurm /var/lib/det-slurm /var/lib/det-slurm-checkpoints; do
	if [ -e "$p" ]; then
		echo "1..0 # SKIP $p exists on this machine: the test would change it"
		exit 0
	fi
done
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$builddir/config.h")

installed=
deploy_cleanup() {
	[ -n "$master_pid" ] && kill -9 "$master_pid" 2>/dev/null
	remove_users
	if [ -n "$installed" ]; then
		# shellcheck disable=SC2086
		dpkg --purge $pkgs >"$work/purge-at-exit.log" 2>&1
		# Only the test made it (skipped above when it existed).
		rm -rf /var/lib/det-slurm-checkpoints
	fi
	cleanup
}
trap deploy_cleanup EXIT
# A test harness's timeout (SIGTERM) or ^C goes through the cleanup too.
trap 'exit 1' INT TERM HUP

# The source tree as a release tarball holds it, and its hash.
src=$work/src/det-slurm-$version
mkdir -p "$work/src"
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$builddir" distdir distdir="$src" \
	>"$work/distdir.log" 2>&1
ok $? "make distdir copies the source tree"
eq "debian/changelog's version is configure.ac's" "$version" \
	"$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version 2>&1)"
hash=$(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum |
	cut -c1-16)
cache=$builddir/tests/deploy/debs/$hash
if [ -e "$cache/done" ]; then
	echo "# reused the packages built from the same sources: $cache"
else
	(cd "$src" && DET_SLURM_SRC=$DET_SLURM_SRC dpkg-buildpackage -b -us -uc -j2) \
		>"$work/build.log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || tail -n 40 "$work/build.log" >&2
	ok $rc "dpkg-buildpackage -b -us -uc builds the packages"
	# Packages of older trees are not reused again.
	rm -rf "$builddir/tests/deploy/debs"
	mkdir -p "$cache"
	cp "$work/src/"*.deb "$work/src/"*.changes "$work/src/"*.buildinfo "$cache/" && : >"$cache/done"
	echo "# built the packages into $cache"
fi
for p in $pkgs; do
	check "$p is built" test -f "$cache/${p}_${version}_$(dpkg --print-architecture).deb"
done

lintian "$cache"/*.changes >"$work/lintian.out" 2>&1
errors=$(grep -c '^E: ' "$work/lintian.out")
[ "$errors" = 0 ] || grep '^E: ' "$work/lintian.out" >&2
eq "lintian reports no errors" 0 "$errors"

debs=
for p in $pkgs; do debs="$debs $cache/${p}_${version}_$(dpkg --print-architecture).deb"; done
installed=1
# shellcheck disable=SC2086
dpkg -i $debs >"$work/install.log" 2>&1
rc=$?
[ "$rc" = 0 ] || tail -n 20 "$work/install.log" >&2
ok $rc "dpkg -i installs the four packages"

perm() { stat -c '%U:%G %a' "$1" 2>&1; }
eq "the package made the state directory root-only" "root:root 700" "$(perm /var/lib/det-slurm)"
eq "... and the checkpoint storage writable by all, sticky" "root:root 1777" \
	"$(perm /var/lib/det-slurm-checkpoints)"
conffiles() { dpkg-query -W -f='${Conffiles}' "$1" | awk '{print $1}' | sort | tr '\n' ' '; }
eq "master.yaml is the master's conffile" "/etc/det-slurm/master.yaml " \
	"$(conffiles det-slurm-master)"
eq "det.conf is the controller's conffile" "/etc/det-slurm/det.conf " \
	"$(conffiles det-slurm-controller)"
eq "the plugstack snippet is the compute node's conffile" \
	"/etc/det-slurm/plugstack.conf.d/det.conf " "$(conffiles det-slurm-compute)"
unit=/lib/systemd/system/det-master.service
# Its Documentation= man page is looked up with man(1) when there is one.
man_opt=
command -v man >/dev/null || man_opt=--man=no
check "the installed unit passes systemd-analyze verify" systemd-analyze verify $man_opt "$unit"
spank=$(awk '$1 == "required" || $1 == "optional" {print $2}' \
	/etc/det-slurm/plugstack.conf.d/det.conf)
check "the plugstack snippet names the installed spank_det.so" test -f "$spank"

make_user U || exit 1
pyfile=$(as_user "$U" /usr/bin/python3 -c 'import determined; print(determined.__file__)' 2>&1)
eq "/usr/bin/python3 finds the determined package" \
	/usr/lib/python3/dist-packages/determined/__init__.py "$pyfile"

# The service's command line, with a private port, socket and state dir.
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$unit")"
eq "the unit runs the installed det-master with the shipped config" \
	"/usr/sbin/det-master --config /etc/det-slurm/master.yaml" "${exec_start[*]}"
: >"$work/master.out"
"${exec_start[@]}" --listen 127.0.0.1:0 --socket "$work/m.sock" --state-dir "$work/state" \
	>>"$work/master.out" 2>>"$work/master.err" &
master_pid=$!
for _ in $(seq 600); do
	[ -S "$work/m.sock" ] && grep -q 'listening on port' "$work/master.out" && break
	sleep 0.1
done
check "the master starts from the unit's ExecStart (within 60 s)" test -S "$work/m.sock"

# The README's way: det experiment create with a config and a model
# directory, by an ordinary user over the socket.
mkdir "$work/model"
cp "$srcdir/examples/python-core-api/train.py" "$srcdir/examples/python-core-api/const.yaml" \
	"$work/model/"
chmod -R a+rX "$work/model"
as_user "$U" env DET_MASTER="unix:$work/m.sock" /usr/bin/det experiment create \
	"$work/model/const.yaml" "$work/model" >"$work/create.out" 2>&1
ok $? "the user creates the example experiment with the installed det"
id=$(sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$work/create.out")
wait_state "$id" COMPLETED 300
rc=$?
[ "$rc" = 0 ] || { cat "$work/body" >&2; tail -n 20 "$work/master.err" >&2; }
ok $rc "the experiment COMPLETES with the shipped config (within 300 s)"
sock GET "/experiments/$id/checkpoints" >/dev/null
# Garbage collection (save_trial_latest, save_trial_best) kept at least one.
uuid=$(body '[.checkpoints[] | select(.state == "COMPLETED")][0].uuid // empty')
check "it kept a checkpoint" test -n "$uuid"
eq "the checkpoint is in the shipped storage, owned by the user" "$U" \
	"$(stat -c %U "/var/lib/det-slurm-checkpoints/$uuid" 2>&1)"
eq "the state directory is the master's only" "root:root 700" "$(perm "$work/state")"
eq "master.db belongs to root" root "$(stat -c %U "$work/state/master.db")"
check "... and the user cannot read it" test "$(as_user "$U" sh -c \
	"test -r '$work/state/master.db' && echo readable || echo unreadable")" = unreadable
stop_master
ok $? "the master stops on SIGTERM"

# shellcheck disable=SC2086
dpkg --purge $pkgs >"$work/purge.log" 2>&1
ok $? "dpkg --purge removes the packages"
for p in /usr/sbin/det-master /usr/bin/det /usr/bin/det-launch /etc/det-slurm /var/lib/det-slurm \
	"$unit"; do
	check "... $p is gone" test ! -e "$p"
done
check "... the users' checkpoints are kept" test -d "/var/lib/det-slurm-checkpoints/$uuid"
rm -rf /var/lib/det-slurm-checkpoints
installed=

echo "1..$tap_n"
exit $((tap_failed > 0))
