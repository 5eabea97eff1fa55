// SPDX-License-Identifier: GPL-2.0-or-later
// The Workspaces and Models pages in headless Chromium (driven by
// playwright-core); run by tests/web/collab.sh, which prints the TAP. One line per
// check, "ok - NAME" or "not ok - NAME". Environment: BASE_URL, PW_MODULES,
// CHROMIUM, PROFILE_DIR, ARTIFACTS, EXP_ID, CKPT (a checkpoint uuid), ADMIN_PW.
// The experiment page's description/notes editor and Register links too.
import path from 'node:path';
import { check, failed, openPage, logIn } from './harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const exp = Number(env.EXP_ID);


const { context, page, jsErrors } = await openPage(env.PROFILE_DIR, 30000);

try {
	await check('admin logs in', async () => {
		await page.goto(base + '/#/workspaces');
		await logIn(page, 'admin', env.ADMIN_PW);
		await page.waitForSelector('#workspaces section.workspace');
		return (await page.evaluate(() => location.hash)) === '#/workspaces';
	});
	await check('the nav links to Workspaces and Models', async () =>
		(await page.locator('nav a[href="#/workspaces"]').count()) === 1 &&
		(await page.locator('nav a[href="#/models"]').count()) === 1);
	await check('workspace team shows its counts', async () => {
		const sec = page.locator('#workspaces section.workspace', { hasText: 'team' });
		return /1 projects, 1 experiments/.test(await sec.locator('.counts').textContent());
	});
	await check('project p lists the experiment with a link', async () => {
		const sec = page.locator('#workspaces section.workspace', { hasText: 'team' });
		const row = sec.locator('tr', { hasText: 'collab-web' });
		return (await row.count()) === 1 && (await row.locator(`a[href="#/experiments/${exp}"]`).count()) === 1 &&
			/COMPLETED/.test(await row.textContent());
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'workspaces-1280.png'), fullPage: true });
	await check('the experiment page saves edited description and notes', async () => {
		await page.goto(base + `/#/experiments/${exp}`);
		await page.click('#tab-notes');
		await page.waitForSelector('#exp-meta');
		await page.fill('#exp-description', 'shared baseline');
		await page.fill('#exp-notes', 'line one\nline two');
		await page.click('#meta-save');
		return await page.waitForFunction(async (id) => {
			const r = await fetch(`/api/v1/experiments/${id}`, { cache: 'no-store' });
			const e = (await r.json()).experiment;
			return e.description === 'shared baseline' && e.notes === 'line one\nline two';
		}, exp).then(() => true);
	});
	await check('the Register link of a checkpoint opens the Models page with it', async () => {
		await page.click('#tab-checkpoints');
		await page.click(`#exp-checkpoints tr[data-uuid="${env.CKPT}"] a.register`);
		await page.waitForSelector('#register-form');
		return (await page.inputValue('#register-uuid')) === env.CKPT &&
			/No versions yet/.test(await page.locator('section.model[data-name="clf"]').textContent());
	});
	await check('Register makes it version 1, shown with its experiment', async () => {
		await page.selectOption('#register-model', 'clf');
		await page.click('#register-submit');
		const row = page.locator('section.model[data-name="clf"] tr[data-version="1"]');
		await row.waitFor();
		const text = await row.textContent();
		return text.includes(env.CKPT) && (await row.locator(`a[href="#/experiments/${exp}"]`).count()) === 1;
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'models-1280.png'), fullPage: true });
	await check('an unknown checkpoint uuid shows an error and adds no version', async () => {
		await page.fill('#register-uuid', '00000000-0000-4000-8000-00000000ffff');
		await page.click('#register-submit');
		await page.waitForFunction(() => (document.querySelector('#register-error')?.textContent ?? '').length > 0);
		return (await page.locator('section.model[data-name="clf"] tr[data-version]').count()) === 1;
	});
	await check('no JavaScript errors', async () => {
		if (jsErrors.length) throw new Error(jsErrors.join('\n'));
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
