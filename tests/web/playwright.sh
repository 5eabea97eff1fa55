# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the browser tests (tests/web/*.sh, tests/slurm/webui_queue.sh):
# finds Debian's chromium, node and playwright-core for them.
#
# web_playwright SRCDIR BUILDDIR: sets chromium and mods (the node_modules
# holding playwright-core: tests/web/node_modules, where scripts/install-deps
# puts it, else an `npm ci` of tests/web/package-lock.json into the build tree).
# 0 when all is there; 77 with the reason in web_why when chromium, node or npm
# is missing (the caller skips); 1 with web_why when npm ci failed.
web_playwright() {
	local srcdir=$1 builddir=$2 d npmdir
	chromium=${CHROMIUM:-/usr/bin/chromium}
	if [ ! -x "$chromium" ]; then
		web_why="chromium is not installed ($chromium)"
		return 77
	fi
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		web_why="node or npm is not installed"
		return 77
	fi
	mods=
	for d in "$srcdir/tests/web/node_modules" "$builddir/tests/web/npm/node_modules"; do
		[ -f "$d/playwright-core/package.json" ] && mods=$d && return 0
	done
	npmdir=$builddir/tests/web/npm
	mkdir -p "$npmdir"
	cp "$srcdir/tests/web/package.json" "$srcdir/tests/web/package-lock.json" "$npmdir/"
	chmod u+w "$npmdir"/package*.json
	if ! (cd "$npmdir" && npm ci --prefer-offline --no-audit --no-fund) >"$npmdir/npm-ci.log" 2>&1; then
		web_why="npm ci of tests/web/package-lock.json failed (see $npmdir/npm-ci.log)"
		return 1
	fi
	mods=$npmdir/node_modules
}

# web_require SRCDIR BUILDDIR: web_playwright for a TAP script of its own,
# which ends here with a SKIP plan or a failed check when it cannot run.
web_require() {
	web_playwright "$1" "$2"
	case $? in
	0) ;;
	77)
		echo "1..0 # SKIP $web_why"
		exit 0
		;;
	*)
		echo "1..1"
		echo "not ok 1 - $web_why"
		exit 1
		;;
	esac
}
