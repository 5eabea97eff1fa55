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

# web_start_master [ARGS...]: for a TAP script that sourced master-lib.sh and
# set srcdir and builddir: start_master with the source tree's web UI and ARGS,
# one check that it started; sets artifacts (the screenshot folder, created)
# and pw (the admin's password).
web_start_master() {
	artifacts=$builddir/tests/web/artifacts
	mkdir -p "$artifacts"
	start_master --webui-dir "$srcdir/webui" "$@"
	check "master starts" test -n "$port"
	pw=$(cat "$work/state/admin-password")
}

# web_node_tap SECONDS SCRIPT DIR: runs the browser SCRIPT with node (the
# caller passes its settings in the environment), its output in DIR/ui.out and
# DIR/ui.err; each of its "ok - " and "not ok - " lines becomes a check of the
# calling script, then one check that it exited 0 (its last errors shown if not).
web_node_tap() {
	local rc line
	timeout "$1" node "$2" >"$3/ui.out" 2>"$3/ui.err"
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) check "${line#ok - }" true ;;
		"not ok - "*) check "${line#not ok - }" false ;;
		*) echo "$line" ;;
		esac
	done <"$3/ui.out"
	check "browser run ends cleanly (exit $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || tail -n 30 "$3/ui.err" | sed 's/^/# /'
}
