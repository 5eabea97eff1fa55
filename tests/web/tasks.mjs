// SPDX-License-Identifier: GPL-2.0-or-later
// The Tasks pages in headless Chromium (driven by playwright-core); run by
// tests/web/tasks.sh, which prints the TAP and starts the command. One line
// per check, "ok - NAME" or "not ok - NAME". Environment: BASE_URL,
// PW_MODULES, CHROMIUM, PROFILE_DIR, ARTIFACTS, TASK_ID (a running command
// that printed hello-from-task-42), NOTEBOOK_ID (a serving notebook, or empty),
// ADMIN_PW.
import path from 'node:path';
import { check, failed, openPage, logIn } from './harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const id = Number(env.TASK_ID);
const rowSel = `#tasks-table tr[data-task="task-${id}"]`;

const { context, page, jsErrors } = await openPage(env.PROFILE_DIR, 60000);

try {
	await check('admin logs in and lands on the Tasks page', async () => {
		await page.goto(base + '/#/tasks');
		await logIn(page, 'admin', env.ADMIN_PW);
		await page.waitForSelector('#tasks-table');
		return (await page.evaluate(() => location.hash)) === '#/tasks';
	});
	await check('the nav links to Tasks', async () =>
		(await page.locator('nav a[href="#/tasks"][aria-current="page"]').count()) === 1);
	await check('the Tasks page lists the command RUNNING with its kind and slots', async () => {
		const row = page.locator(rowSel);
		await row.waitFor();
		const cells = await row.locator('td').allTextContents();
		return cells[1] === 'command' && cells[4] === 'RUNNING' && cells[5] === '1' &&
			(await row.locator(`a[href="#/tasks/${id}"]`).count()) === 1;
	});
	await check('the state filter RUNNING keeps it, TERMINATED hides it', async () => {
		await page.selectOption('#tasks-state', 'RUNNING');
		const kept = await page.locator(rowSel).count();
		await page.selectOption('#tasks-state', 'TERMINATED');
		const hidden = await page.locator(rowSel).count();
		await page.selectOption('#tasks-state', '');
		return kept === 1 && hidden === 0;
	});
	await check('the kind filter trial hides it, command keeps it', async () => {
		await page.selectOption('#tasks-kind', 'trial');
		const hidden = await page.locator(rowSel).count();
		await page.selectOption('#tasks-kind', 'command');
		const kept = await page.locator(rowSel).count();
		await page.selectOption('#tasks-kind', '');
		return kept === 1 && hidden === 0;
	});
	await check('sorting by a column heading sets aria-sort', async () => {
		await page.click('#tasks-table th button[data-sort="state"]');
		return (await page.locator('#tasks-table th[aria-sort="ascending"] button[data-sort="state"]').count()) === 1 &&
			(await page.locator(rowSel).count()) === 1;
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'tasks-1280.png'), fullPage: true });
	await check('its page shows its output', async () => {
		await page.click(`${rowSel} a[href="#/tasks/${id}"]`);
		await page.waitForFunction(() => /hello-from-task-42/.test(document.querySelector('#task-logs')?.textContent || ''));
		return /RUNNING/.test(await page.locator('#task-state').textContent());
	});
	await check('its summary shows no empty values as "null"', async () =>
		!/null|undefined/.test(await page.locator('#task-summary').textContent() + await page.locator('#task-actions').textContent()));
	await check('no Open link without a proxy address', async () => (await page.locator('#task-open').count()) === 0);
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'task-1280.png'), fullPage: true });
	await check('Kill asks first; Cancel leaves it RUNNING', async () => {
		await page.click('#task-kill');
		await page.waitForSelector('#confirm[open]');
		await page.click('#confirm button[value="cancel"]');
		const r = await page.evaluate(async (t) => (await (await fetch(`/api/v1/tasks/${t}`)).json()).task.state, id);
		return r === 'RUNNING';
	});
	await check('Kill, confirmed, ends it TERMINATED (killed) and the button goes', async () => {
		await page.click('#task-kill');
		await page.waitForSelector('#confirm[open]');
		await page.click('#confirm-ok');
		await page.waitForFunction(() => /TERMINATED/.test(document.querySelector('#task-state')?.textContent || ''));
		return /killed/.test(await page.locator('#task-end').textContent()) &&
			(await page.locator('#task-kill').count()) === 0;
	});
	await check('the output reading ends once the task has ended', async () => {
		await page.waitForSelector('#task-logs[data-done="1"]');
		return true;
	});
	await check('the list shows it TERMINATED with its end reason', async () => {
		await page.click('a[href="#/tasks"]');
		const row = page.locator(rowSel);
		await page.waitForFunction((sel) => /TERMINATED/.test(document.querySelector(sel)?.textContent || ''), rowSel);
		return /killed/.test(await row.textContent());
	});
	await check('800 px: the Tasks page and a task page do not scroll sideways', async () => {
		await page.setViewportSize({ width: 800, height: 900 });
		await page.goto(base + '/#/tasks');
		await page.waitForSelector(rowSel);
		await page.screenshot({ path: path.join(env.ARTIFACTS, 'tasks-800.png'), fullPage: true });
		const list = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
		await page.goto(base + `/#/tasks/${id}`);
		await page.waitForSelector('#task-logs[data-done="1"]');
		await page.screenshot({ path: path.join(env.ARTIFACTS, 'task-800.png'), fullPage: true });
		const page800 = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
		await page.setViewportSize({ width: 1280, height: 900 });
		return list && page800;
	});
	if (env.NOTEBOOK_ID) {
		const nb = Number(env.NOTEBOOK_ID);
		await check('a running notebook has an Open link to its /proxy/ID/', async () => {
			await page.goto(base + '/#/tasks');
			await page.reload();
			const sel = `#tasks-table tr[data-task="task-${nb}"] a.open`;
			await page.waitForSelector(sel);
			return (await page.locator(sel).getAttribute('href')) === `${base}/proxy/${nb}/`;
		});
	}
	await check('never an Open link for a javascript: url', async () => {
		// A hostile proxy_url (the master never sends one): the page must not link it.
		await page.route('**/api/v1/tasks', async (route) => {
			const res = await route.fetch({ headers: { ...route.request().headers(), 'if-none-match': '' } });
			const data = await res.json();
			for (const t of data.tasks) t.proxy_url = 'javascript:alert(1)';
			await route.fulfill({ response: res, json: data });
		});
		await page.goto(base + '/#/tasks');
		await page.reload();
		await page.waitForSelector(rowSel);
		const bad = await page.locator('#tasks-table a.open[href^="javascript"]').count();
		await page.unroute('**/api/v1/tasks');
		return bad === 0;
	});
	await check('no JavaScript errors', async () => {
		if (jsErrors.length) throw new Error(jsErrors.join('\n'));
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
