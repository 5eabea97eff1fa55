#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det image import|list|rm against a det-master running as root: the tarball
# (or directory, packed by tar) is read as the calling Unix user (a file they
# cannot read is refused, and nothing is imported), a corrupt or hostile tarball is refused with nothing
# left in the cache, anyone lists, only the importer or an admin removes or
# replaces a name, and a config naming an image that is not in the cache is
# refused at create.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_det
echo "1..20"
make_user U V || exit 1
start_master
cache=$work/state-images
detu() { as_user "$U" env DET_MASTER="unix:$work/m.sock" "$det" "$@"; }
detv() { as_user "$V" env DET_MASTER="unix:$work/m.sock" "$det" "$@"; }

# A tiny root file system: a shell and a marker file.
mkdir -p "$work/root/bin" "$work/root/etc"
cp /bin/dash "$work/root/bin/sh"
echo det-test-image >"$work/root/etc/det-test-image-marker"
home=/tmp/$U.home
tar -C "$work/root" -cf "$home/rootfs.tar" .
chown "$U:" "$home/rootfs.tar"
want=$(sha256sum "$home/rootfs.tar" | cut -d' ' -f1)

detu image import "$home/rootfs.tar" tiny/sh:1 >"$work/imp.out" 2>&1
ok $? "a user imports a tarball from their own 0700 home"
eq "the digest is the tarball's SHA-256" "Imported tiny/sh:1 as sha256:$want" "$(cat "$work/imp.out")"
cmp -s "$home/rootfs.tar" "$cache/sha256/$want.tar"
ok $? "the cache holds it under its digest, byte for byte"

# Read as the caller: a root-only file is refused, and so is another user's home.
cp "$home/rootfs.tar" "$work/secret.tar"
chmod 0600 "$work/secret.tar"
detu image import "$work/secret.tar" stolen >"$work/imp.out" 2>&1
ok $((! $?)) "a file the user cannot read is refused"
grep -q 'Permission denied' "$work/imp.out"
ok $? "with the reason (read as the calling user)" || sed 's/^/#   /' "$work/imp.out"
detv image import "$home/rootfs.tar" stolen >/dev/null 2>&1
ok $((! $?)) "another user's file in a 0700 home is refused too"

# Corrupt and hostile tarballs: a clear error, nothing half written.
head -c 30000 "$home/rootfs.tar" >"$home/cut.tar"
printf 'garbage, not a tar archive\n%.0s' $(seq 500) >"$home/junk.tar"
mkdir -p "$work/evil"
printf x >"$work/evil/x"
tar -C "$work/evil" -cf "$home/evil.tar" --transform 's|^\./x|../../etc/evil|' ./x
tar -C "$work/evil" -cf "$home/nosh.tar" ./x
chown "$U:" "$home"/*.tar
for bad in cut junk evil nosh; do
	detu image import "$home/$bad.tar" "bad-$bad" >"$work/$bad.out" 2>&1
	echo "$? $(head -c 300 "$work/$bad.out")" >"$work/$bad.res"
done
eq "truncated, garbage, ../ and shell-less tarballs are all refused" "1 1 1 1" \
	"$(cat "$work"/{cut,junk,evil,nosh}.res | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
grep -q 'Truncated input' "$work/cut.out" && grep -q 'not a readable tar' "$work/junk.out" &&
	grep -q 'absolute or with ".."' "$work/evil.out" && grep -q 'no bin/sh' "$work/nosh.out"
ok $? "each with what is wrong"
[ "$tap_failed" = 0 ] || sed 's/^/#   /' "$work"/*.res
eq "nothing of them is left in the cache (one image, no temporary file)" \
	"$want.tar" "$(ls "$cache/sha256" "$cache/tmp" 2>&1 | grep -v -e '^$' -e ':$')"
# shellcheck disable=SC2012
eq "no name points at them" "tiny/sh:1" "$(detv -o json image list | jq -r '.[].name')"

# A directory is packed by tar as the user: fine when all of it is readable.
cp -a "$work/root" "$home/rootdir"
chown -R "$U:" "$home/rootdir"
detu image import "$home/rootdir" tiny/dir >"$work/dir.out" 2>&1
ok $? "a user imports a directory" || sed 's/^/#   /' "$work/dir.out"
echo secret >"$work/root/etc/shadow-like" && chmod 0600 "$work/root/etc/shadow-like"
cp -a "$work/root" "$home/rootdir2" && chown -R "$U:" "$home/rootdir2"
chown root: "$home/rootdir2/etc/shadow-like"
detu image import "$home/rootdir2" tiny/dir2 >"$work/dir2.out" 2>&1
ok $((! $?)) "a directory holding a file the user cannot read is refused"
grep -q 'packing the directory with tar failed' "$work/dir2.out"
ok $? "saying why" || sed 's/^/#   /' "$work/dir2.out"
detu image rm tiny/dir >/dev/null 2>&1

# Who may do what.
eq "another user lists it, with its owner" "$U" \
	"$(detv -o json image list | jq -r '.[] | select(.name == "tiny/sh:1") | .owner')"
detv image rm tiny/sh:1 >/dev/null 2>&1
ok $((! $?)) "another user cannot remove it"
cp "$home/rootfs.tar" "/tmp/$V.home/mine.tar" && chown "$V:" "/tmp/$V.home/mine.tar"
detv image import "/tmp/$V.home/mine.tar" tiny/sh:1 >/dev/null 2>&1
ok $((! $?)) "nor replace the name with their own tarball"

# Configs: a name that is not in the cache is an error at create.
cat >"$work/exp.yaml" <<YAML
entrypoint: [sh, -c, "true"]
searcher: {name: single, metric: m, max_length: {batches: 1}}
environment: {image: no-such-image}
YAML
detu experiment create "$work/exp.yaml" >"$work/create.out" 2>&1
ok $((! $?)) "a config naming an unknown image is refused at create"
grep -q 'environment.image: no image "no-such-image"' "$work/create.out"
ok $? "naming the image and how to import it" || sed 's/^/#   /' "$work/create.out"

detu image rm tiny/sh:1 >/dev/null 2>&1 && [ ! -e "$cache/sha256/$want.tar" ]
ok $? "its importer removes it, and the tarball goes with its last name"
detu image import "$home/rootfs.tar" again >/dev/null 2>&1 &&
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$work/m.sock" -X DELETE \
		'http://localhost/api/v1/images?name=again' | grep -qx 200
ok $? "an admin (root) removes another user's image"
