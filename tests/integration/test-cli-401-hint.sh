#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What det says after a 401 fits how it reached the master: on the Unix
# socket (where the uid identifies the caller and no login exists to help)
# it never suggests det user login and names what is wrong (a DET_TOKEN the
# master refused); over TCP it suggests det user login.
set -u
. "$(dirname "$0")/master-lib.sh"
det=${DET_BIN:-$builddir/cli/det}
start_master
export DET_AUTH_FILE=$work/auth.json DET_MUNGE_SOCKET=$work/no-munged.socket
bogus=$(printf '%064d' 0)

DET_TOKEN=$bogus "$det" -m "unix:$work/m.sock" experiment list >/dev/null 2>"$work/err"
eq "Unix socket, refused DET_TOKEN: det fails" 1 $?
check "... and does not suggest det user login" bash -c "! grep -q 'user login' '$work/err'"
check "... and says to unset DET_TOKEN" grep -q "unset it" "$work/err"

"$det" -m "unix:$work/m.sock" experiment list >/dev/null 2>"$work/err"
eq "Unix socket without DET_TOKEN: no login needed" 0 $?

DET_TOKEN=$bogus "$det" -m "http://127.0.0.1:$port" experiment list >/dev/null 2>"$work/err"
eq "TCP, refused token: det fails" 1 $?
check "... and suggests det user login" grep -q "det user login USER" "$work/err"

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
