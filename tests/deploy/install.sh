#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make install (into a DESTDIR) installs what the packages do, with the
# build's own paths in the configs and the unit: master.yaml, det.conf and
# the plugstack snippet under $(sysconfdir)/det-slurm, det-master.service,
# the bash completion; a config file that already exists is kept as it is,
# and make uninstall removes only the ones still as installed.
set -u
# scripts/test builds the packages in one build tree only and says why elsewhere.
if [ -n "${DET_SKIP_DEPLOY_TESTS:-}" ]; then
	echo "1..0 # SKIP $DET_SKIP_DEPLOY_TESTS"
	exit 0
fi
. "$(dirname "$0")/../integration/master-lib.sh"
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$builddir" "$@"; }
var() { sed -n "s|^$1 = ||p" "$builddir/Makefile" | head -n 1; }
prefix=$(var prefix)
sysconfdir=$(var sysconfdir | sed "s|\${prefix}|$prefix|")
unitdir=$(var systemdsystemunitdir | sed "s|\${prefix}|$prefix|")
root=$work/root
etc=$root$sysconfdir/det-slurm

# An admin's master.yaml is already there.
mkdir -p "$etc"
echo "listen: 127.0.0.1:9999 # the admin's" >"$etc/master.yaml"
mk install DESTDIR="$root" >"$work/install.log" 2>&1
ok $? "make install into DESTDIR"
eq "an existing master.yaml is kept" "listen: 127.0.0.1:9999 # the admin's" "$(cat "$etc/master.yaml")"
check "... and make install says so" grep -q "keeping the existing .*master.yaml" "$work/install.log"
check "det.conf is installed" test -f "$etc/det.conf"
check "the plugstack snippet is installed" test -f "$etc/plugstack.conf.d/det.conf"
check "... naming the installed spank_det.so" test -f \
	"$root$(awk '$1 == "required" || $1 == "optional" {print $2}' "$etc/plugstack.conf.d/det.conf")"
check "det-master.service is installed" test -f "$root$unitdir/det-master.service"
read -r -a exec_start <<<"$(sed -n 's/^ExecStart=//p' "$root$unitdir/det-master.service")"
check "... its ExecStart is the installed det-master" test -x "$root${exec_start[0]}"
eq "... with the installed master.yaml" "$sysconfdir/det-slurm/master.yaml" "${exec_start[2]:-}"
check "the bash completion is installed" test -f "$root$prefix/share/bash-completion/completions/det"

# A fresh master.yaml names this build's det-launch.
rm "$etc/master.yaml"
mk install DESTDIR="$root" >"$work/install2.log" 2>&1
launcher=$(sed -n 's/^  launcher: //p' "$etc/master.yaml" | awk '{print $1}')
check "a new master.yaml names the installed det-launch" test -x "$root$launcher"

echo "# the admin changed det.conf" >>"$etc/det.conf"
mk uninstall DESTDIR="$root" >"$work/uninstall.log" 2>&1
ok $? "make uninstall"
check "... keeps the changed det.conf" test -f "$etc/det.conf"
check "... removes the unchanged master.yaml" test ! -e "$etc/master.yaml"
check "... and the unit" test ! -e "$root$unitdir/det-master.service"

echo "1..$tap_n"
exit $((tap_failed > 0))
