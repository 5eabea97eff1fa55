#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# RPM packages for RHEL-family sites: the release tarball (make distdir,
# packed as make dist packs it) carries det-slurm.spec, and
# rpmbuild -ta --nodeps builds the four packages by host role from it, with
# the configs marked as config files. Runs with Debian's rpm package; skips
# without rpmbuild. Builds in a private _topdir, installs nothing.
set -u
# scripts/test builds the packages in one build tree only and says why elsewhere.
if [ -n "${DET_SKIP_DEPLOY_TESTS:-}" ]; then
	echo "1..0 # SKIP $DET_SKIP_DEPLOY_TESTS"
	exit 0
fi
. "$(dirname "$0")/../integration/master-lib.sh"
if ! command -v rpmbuild >/dev/null; then
	echo "1..0 # SKIP rpmbuild is missing (Debian package rpm)"
	exit 0
fi
if [ -z "${DET_SLURM_SRC:-}" ]; then
	echo "1..0 # SKIP no Slurm source tree (configure --with-slurm-src): the controller package needs it"
	exit 0
fi
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$builddir/config.h")
name=det-slurm-$version
mkdir -p "$work/dist"
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$builddir" distdir distdir="$work/dist/$name" \
	>"$work/distdir.log" 2>&1
ok $? "make distdir copies the source tree"
tar -C "$work/dist" -czf "$work/$name.tar.gz" "$name"
check "the tarball carries det-slurm.spec with the version" \
	grep -qx "Version: *$version" "$work/dist/$name/det-slurm.spec"

rpmbuild -ta --nodeps --define "_topdir $work/rpm" --define "_smp_mflags -j2" \
	--define "slurm_src $DET_SLURM_SRC" \
	"$work/$name.tar.gz" >"$work/rpmbuild.log" 2>&1
rc=$?
[ "$rc" = 0 ] || tail -n 40 "$work/rpmbuild.log" >&2
ok $rc "rpmbuild -ta --nodeps builds from the tarball"

rpm_of() { find "$work/rpm/RPMS" -name "det-slurm-$1-$version-1*.rpm" 2>/dev/null | head -n 1; }
has() { # PACKAGE PATH: the package holds the path
	local f
	f=$(rpm_of "$1")
	[ -n "$f" ] && rpm -qlp "$f" 2>/dev/null | grep -qx "$2"
}
config() { # PACKAGE: its config files, sorted, on one line
	local f
	f=$(rpm_of "$1")
	[ -n "$f" ] && rpm -qcp "$f" 2>/dev/null | sort | tr '\n' ' '
}
check "det-slurm-master holds det-master" has master /usr/sbin/det-master
check "... and the unit" has master /usr/lib/systemd/system/det-master.service
eq "... with master.yaml as config" "/etc/det-slurm/master.yaml " "$(config master)"
check "det-slurm-client holds det" has client /usr/bin/det
check "... and the bash completion" has client /usr/share/bash-completion/completions/det
check "det-slurm-compute holds det-launch" has compute /usr/bin/det-launch
eq "... with the plugstack snippet as config" "/etc/det-slurm/plugstack.conf.d/det.conf " \
	"$(config compute)"
eq "det-slurm-controller's config is det.conf" "/etc/det-slurm/det.conf " "$(config controller)"

echo "1..$tap_n"
exit $((tap_failed > 0))
