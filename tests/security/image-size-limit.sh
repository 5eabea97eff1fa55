#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det image import and the image size limit (image_max_mib in master.yaml):
# a tarball over it is refused before it is read, with a clear error naming
# the limit and its key, and nothing is left in the image cache (no tarball,
# no temporary file, no name); one under it imports. The default (8 GiB) is
# in force without the key.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_det
echo "1..7"
make_user U || exit 1
printf 'image_max_mib: 1\n' >"$work/limit.yaml"
start_master --config "$work/limit.yaml"
cache=$work/state-images
detu() { as_user "$U" env DET_MASTER="unix:$work/m.sock" "$det" "$@"; }
home=/tmp/$U.home

# A tiny root file system (under 1 MiB), and the same with 2 MiB of padding.
mkdir -p "$work/root/bin" "$work/root/etc"
cp /bin/dash "$work/root/bin/sh"
tar -C "$work/root" -cf "$home/small.tar" .
head -c $((2 * 1024 * 1024)) /dev/urandom >"$work/root/etc/padding"
tar -C "$work/root" -cf "$home/big.tar" .
chown "$U:" "$home"/*.tar

detu image import "$home/big.tar" big >"$work/big.out" 2>&1
ok $((! $?)) "a tarball over image_max_mib is refused"
grep -q "over the image size limit of 1 MiB (image_max_mib in master.yaml); nothing was imported" \
	"$work/big.out"
ok $? "saying so, with the limit and its key" || sed 's/^/#   /' "$work/big.out"
eq "nothing is left in the cache" "" "$(find "$cache" -type f 2>/dev/null)"
sock GET /images >/dev/null
eq "and no name" 0 "$(body '.images | length')"
detu image import "$home/small.tar" small >/dev/null 2>&1
ok $? "a tarball under the limit imports"

stop_master
start_master
detu image import "$home/big.tar" big >"$work/big2.out" 2>&1
ok $? "without the key, the default limit (8 GiB) lets the 2 MiB tarball in"
printf 'image_max_mib: 0\n' >"$work/zero.yaml"
timeout 30 "$master_bin" --config "$work/zero.yaml" --state-dir "$work/state2" \
	--listen 127.0.0.1:0 --socket "$work/m2.sock" >"$work/zero.out" 2>&1
grep -q 'image_max_mib' "$work/zero.out"
ok $? "image_max_mib: 0 stops det-master with an error naming the key" ||
	sed 's/^/#   /' "$work/zero.out"
