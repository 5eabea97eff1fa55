// SPDX-License-Identifier: GPL-2.0-or-later
// What the browser tests share (tests/web/ui.mjs, collab.mjs,
// tests/slurm/webui_queue.mjs): playwright-core from PW_MODULES, one check()
// printing "ok - NAME" or "not ok - NAME" (the shell scripts number them into
// TAP), and a headless Chromium profile.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PW_MODULES, 'x.js'));
const { chromium } = require('playwright-core');

let failures = 0;

// Print one check's result; a failure counts, with detail as "# " lines.
export function report(pass, name, detail) {
	console.log(`${pass ? 'ok' : 'not ok'} - ${name}`);
	if (!pass) {
		failures++;
		if (detail) console.log('# ' + String(detail).split('\n').slice(0, 12).join('\n# '));
	}
}

// Run fn as one check: a false result or a throw fails it, with the detail as
// "# " lines. fn's result (undefined after a throw).
export async function check(name, fn) {
	let r;
	let detail;
	try {
		r = await fn();
		if (r === false) detail = 'condition false';
	} catch (e) {
		detail = e && e.stack ? e.stack : String(e);
	}
	report(detail === undefined, name, detail);
	return r;
}

// How many checks failed so far.
export const failed = () => failures;

// A browser profile in dir: its own cookie jar (one login for all its tabs).
export function launch(dir) {
	return chromium.launchPersistentContext(dir, {
		executablePath: process.env.CHROMIUM,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		viewport: { width: 1280, height: 900 },
	});
}

// The first tab of a profile in dir (launch), timeoutMs its default timeout;
// jsErrors collects the messages of its uncaught page errors.
export async function openPage(dir, timeoutMs) {
	const context = await launch(dir);
	const page = context.pages()[0] || (await context.newPage());
	const jsErrors = [];
	page.on('pageerror', (e) => jsErrors.push(e.message));
	page.setDefaultTimeout(timeoutMs);
	return { context, page, jsErrors };
}

// Log in as user with password pw on the login form the page shows.
export async function logIn(page, user, pw) {
	await page.waitForSelector('#username');
	await page.fill('#username', user);
	await page.fill('#password', pw);
	await page.press('#password', 'Enter');
}
