# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the browser tests tests/web/*.sh once they have set srcdir: sets
# builddir, skips the script when chromium or node/npm are missing
# (web_require), then sources master-lib.sh for a det-master of its own.
builddir=${top_builddir:-$(pwd)}
. "$srcdir/tests/web/playwright.sh"
web_require "$srcdir" "$builddir"
. "$srcdir/tests/integration/master-lib.sh"
