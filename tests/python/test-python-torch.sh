#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# determined.pytorch and determined.launch with Debian's python3-torch, as TAP.
# Skipped where /usr/bin/python3 has no torch.
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$here/../..}
py=/usr/bin/python3
if ! $py -c 'import torch' >/dev/null 2>&1; then
	echo "1..0 # SKIP python3-torch is not installed for $py"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
exec env -u DET_MASTER PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 $py "$here/tap_runner.py" \
	"$top/launcher/python" "$here" test_pytorch_data test_pytorch_context test_pytorch_trainer
