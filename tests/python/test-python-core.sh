#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Python Core API package's unit tests, as TAP.
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/../..}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
exec env -u DET_MASTER PYTHONDONTWRITEBYTECODE=1 python3 "$here/tap_runner.py" \
	"$top/launcher/python" "$here" test_info test_core_offcluster test_distributed
