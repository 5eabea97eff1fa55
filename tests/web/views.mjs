// SPDX-License-Identifier: GPL-2.0-or-later
// The compare view, the master-paged trials and checkpoints tables and the
// password page in headless Chromium (driven by playwright-core); run by
// tests/web/views.sh, which prints the TAP. One line per check, "ok - NAME" or
// "not ok - NAME". Environment: BASE_URL, PW_MODULES, CHROMIUM, PROFILE_DIR,
// ARTIFACTS, EXP_ID (a finished 12-trial search), CKPT (a checkpoint with
// files), ADMIN_PW.
import path from 'node:path';
import { check, failed, launch } from './harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const exp = Number(env.EXP_ID);

const context = await launch(env.PROFILE_DIR);
const page = context.pages()[0] || (await context.newPage());
const jsErrors = [];
page.on('pageerror', (e) => jsErrors.push(e.message));
page.setDefaultTimeout(30000);

// GET /api/v1 + p with the page's session; the parsed body.
const get = (p) => page.evaluate(async (u) => (await fetch('/api/v1' + u, { cache: 'no-store' })).json(), p);

async function logIn(user, pw) {
	await page.waitForSelector('#username');
	await page.fill('#username', user);
	await page.fill('#password', pw);
	await page.press('#password', 'Enter');
}

try {
	await check('pat logs in', async () => {
		await page.goto(base + '/#/experiments');
		await logIn('pat', 'pat-old-pw-1');
		await page.waitForSelector('#who-name');
		return /pat/.test(await page.textContent('#who-name'));
	});
	await check('the name at the top opens the user page', async () => {
		await page.click('#who-name');
		await page.waitForSelector('#password-form');
		return (await page.evaluate(() => location.hash)) === '#/me' && /User pat/.test(await page.textContent('#me-title'));
	});
	await check('two different new passwords: an error, nothing changed', async () => {
		await page.fill('#new-password', 'pat-new-pw-2');
		await page.fill('#new-password2', 'pat-new-pw-3');
		await page.click('#password-save');
		await page.waitForFunction(() => document.querySelector('#password-error').textContent.length > 0);
		return /differ/.test(await page.textContent('#password-error'));
	});
	await check('a too short password: the master\'s refusal is shown', async () => {
		await page.fill('#new-password', 'short');
		await page.fill('#new-password2', 'short');
		await page.click('#password-save');
		await page.waitForFunction(() => /Not changed/.test(document.querySelector('#password-error').textContent));
		return true;
	});
	await check('changing it says so', async () => {
		await page.fill('#new-password', 'pat-new-pw-2');
		await page.fill('#new-password2', 'pat-new-pw-2');
		await page.click('#password-save');
		await page.waitForFunction(() => /Password changed/.test(document.querySelector('#password-done').textContent));
		return (await page.textContent('#password-error')) === '';
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'doc-password-1440.png'), fullPage: true });
	await check('log out, then the new password logs in', async () => {
		await page.click('#logout');
		await logIn('pat', 'pat-new-pw-2');
		await page.waitForSelector('#who-name');
		await page.waitForFunction(() => /pat/.test(document.querySelector('#who-name').textContent));
		return (await page.evaluate(() => location.hash)) !== '#/login';
	});
	await check('no JavaScript errors', async () => {
		if (jsErrors.length) throw new Error(jsErrors.join('\n'));
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
