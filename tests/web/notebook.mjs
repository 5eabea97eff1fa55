// SPDX-License-Identifier: GPL-2.0-or-later
// Notebooks and TensorBoards started from the web UI, in headless Chromium
// (playwright-core); run by tests/web/notebook.sh, which prints the TAP.
// Environment: BASE_URL, PW_MODULES, CHROMIUM, PROFILE_DIR, ARTIFACTS,
// EXP_ID (a completed experiment), ADMIN_PW.
import path from 'node:path';
import { check, failed, openPage, logIn } from './harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const exp = Number(env.EXP_ID);

const { context, page, jsErrors } = await openPage(env.PROFILE_DIR, 60000);

const taskOfHash = async () => {
	await page.waitForFunction(() => /^#\/tasks\/\d+$/.test(location.hash));
	return Number((await page.evaluate(() => location.hash)).split('/')[2]);
};
const inDialog = () => page.evaluate(() => {
	const d = document.querySelector('#nb-dialog');
	return !!d && d.contains(document.activeElement);
});

// A TensorBoard task's page shows it TERMINATED with the reason in plain words.
async function endsNotFound() {
	const id = await taskOfHash();
	await page.waitForFunction(() => /TERMINATED/.test(document.querySelector('#task-state')?.textContent || ''));
	await page.waitForSelector('#task-why:not([hidden])');
	const why = await page.locator('#task-why').textContent();
	const kind = await page.evaluate(async (t) => (await (await fetch(`/api/v1/tasks/${t}`)).json()).task.kind, id);
	return kind === 'tensorboard' && /tensorboard not found on PATH/.test(why);
}

try {
	await check('admin logs in and lands on the Tasks page', async () => {
		await page.goto(base + '/#/tasks');
		await logIn(page, 'admin', env.ADMIN_PW);
		await page.waitForSelector('#tasks-table');
		return true;
	});
	await check('New notebook opens a modal <dialog> with focus inside', async () => {
		await page.click('#tasks-new-notebook');
		await page.waitForSelector('#nb-dialog[open]');
		return (await page.evaluate(() => document.querySelector('#nb-dialog').matches(':modal'))) && (await inDialog());
	});
	await check('every field of the dialog has a label', async () => page.evaluate(() =>
		[...document.querySelectorAll('#nb-dialog input, #nb-dialog select')].every((i) => i.labels && i.labels.length === 1 && i.labels[0].textContent.trim())));
	await check('the resource pool menu lists the master\'s pools', async () =>
		(await page.locator('#nb-pool option[value="default"]').count()) === 1);
	await check('Tab keeps the focus inside the dialog', async () => {
		for (const key of [...Array(12).fill('Tab'), ...Array(12).fill('Shift+Tab')]) {
			await page.keyboard.press(key);
			if (!(await inDialog())) return false;
		}
		return true;
	});
	await check('Escape closes it and the focus returns to New notebook', async () => {
		await page.keyboard.press('Escape');
		await page.waitForSelector('#nb-dialog', { state: 'detached' });
		return page.evaluate(() => document.activeElement?.id === 'tasks-new-notebook');
	});
	await check('800 px: the dialog fits without scrolling sideways', async () => {
		await page.setViewportSize({ width: 800, height: 900 });
		await page.keyboard.press('Enter'); // the focused New notebook button
		await page.waitForSelector('#nb-dialog[open]');
		const box = await page.locator('#nb-dialog').boundingBox();
		await page.screenshot({ path: path.join(env.ARTIFACTS, 'notebook-dialog-800.png') });
		const fits = box.x >= 0 && box.x + box.width <= 800 &&
			(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
		await page.setViewportSize({ width: 1280, height: 900 });
		return fits;
	});
	await check('the API\'s refusal is shown in the dialog, which stays open', async () => {
		await page.fill('#nb-slots', '99999');
		await page.click('#nb-create');
		await page.waitForSelector('#nb-error:not([hidden])');
		await page.screenshot({ path: path.join(env.ARTIFACTS, 'notebook-dialog-error-1280.png') });
		return /resources\.slots/.test(await page.locator('#nb-error').textContent()) &&
			(await page.locator('#nb-dialog[open]').count()) === 1;
	});
	let nb = 0;
	await check('the dialog starts a notebook and opens its page', async () => {
		await page.fill('#nb-slots', '0');
		await page.fill('#nb-idle', '30');
		await page.fill('#nb-description', 'from the dialog');
		await page.keyboard.press('Enter');
		nb = await taskOfHash();
		const t = await page.evaluate(async (n) => (await (await fetch(`/api/v1/tasks/${n}`)).json()).task, nb);
		return t.kind === 'notebook' && t.description === 'from the dialog' &&
			(await page.locator('#nb-dialog').count()) === 0;
	});
	let href = '';
	await check('the notebook becomes RUNNING with an Open link to /proxy/ID/', async () => {
		await page.waitForSelector('#task-open', { timeout: 120000 });
		href = await page.locator('#task-open').getAttribute('href');
		await page.screenshot({ path: path.join(env.ARTIFACTS, 'notebook-task-1280.png'), fullPage: true });
		return href === `${base}/proxy/${nb}/` && /RUNNING/.test(await page.locator('#task-state').textContent());
	});
	await check('Open loads Jupyter through the proxy with the session cookie, no token', async () => {
		const tab = await context.newPage();
		const res = await tab.goto(href);
		await tab.waitForLoadState('load');
		const html = await tab.content();
		const url = tab.url();
		await tab.screenshot({ path: path.join(env.ARTIFACTS, 'notebook-jupyter-1280.png') });
		const tokenForm = await tab.locator('input[name="password"]').count();
		await tab.close();
		return res.ok() && url.startsWith(`${base}/proxy/${nb}/`) && /jupyter/i.test(html) && tokenForm === 0;
	});
	await check('Kill ends the notebook TERMINATED', async () => {
		await page.click('#task-kill');
		await page.waitForSelector('#confirm[open]');
		await page.click('#confirm-ok');
		await page.waitForFunction(() => /TERMINATED/.test(document.querySelector('#task-state')?.textContent || ''));
		return /killed/.test(await page.locator('#task-end').textContent());
	});
	await check('Launch TensorBoard on the experiment page ends with "tensorboard not found on PATH" shown', async () => {
		await page.goto(base + `/#/experiments/${exp}`);
		await page.click('#act-tensorboard');
		const r = await endsNotFound();
		await page.screenshot({ path: path.join(env.ARTIFACTS, 'tensorboard-task-1280.png'), fullPage: true });
		return r;
	});
	await check('TensorBoard of selected trials in the Trials table', async () => {
		await page.goto(base + `/#/experiments/${exp}?tab=trials`);
		await page.locator('#trials-table input.compare-pick').first().check();
		await page.click('#tensorboard-selected-btn');
		return endsNotFound();
	});
	await check('Launch TensorBoard in the compare view', async () => {
		const ids = await page.evaluate(async (e) =>
			(await (await fetch(`/api/v1/experiments/${e}/trials`)).json()).trials.map((t) => t.id), exp);
		await page.goto(base + `/#/compare?trials=${ids.slice(0, 2).join(',')}`);
		await page.click('#compare-tensorboard');
		return endsNotFound();
	});
	await check('Open notebook on the experiment page: the dialog names the experiment', async () => {
		await page.goto(base + `/#/experiments/${exp}`);
		await page.click('#act-notebook');
		await page.waitForSelector('#nb-dialog[open]');
		const d = await page.locator('#nb-description').inputValue();
		await page.fill('#nb-slots', '0');
		await page.click('#nb-create');
		const n = await taskOfHash();
		const t = await page.evaluate(async (x) => (await (await fetch(`/api/v1/tasks/${x}`)).json()).task, n);
		return d.includes(`experiment ${exp}`) && t.kind === 'notebook' && t.description === d;
	});
	await check('no JavaScript errors', async () => {
		if (jsErrors.length) throw new Error(jsErrors.join('\n'));
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
