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
	// The filters ask the master again: wait until the row comes or goes.
	const shown = (sel) => page.waitForSelector(sel, { state: 'attached' }).then(() => 1);
	const gone = (sel) => page.waitForSelector(sel, { state: 'detached' }).then(() => 0);
	await check('the state filter RUNNING keeps it, TERMINATED hides it', async () => {
		await page.selectOption('#tasks-state', 'RUNNING');
		const kept = await shown(rowSel);
		await page.selectOption('#tasks-state', 'TERMINATED');
		const hidden = await gone(rowSel);
		await page.selectOption('#tasks-state', '');
		await shown(rowSel);
		return kept === 1 && hidden === 0;
	});
	await check('the kind filter trial hides it, command keeps it', async () => {
		await page.selectOption('#tasks-kind', 'trial');
		const hidden = await gone(rowSel);
		await page.selectOption('#tasks-kind', 'command');
		const kept = await shown(rowSel);
		await page.selectOption('#tasks-kind', '');
		await shown(rowSel);
		return kept === 1 && hidden === 0;
	});
	await check('sorting by a column heading sets aria-sort', async () => {
		await page.click('#tasks-table th button[data-sort="state"]');
		await shown(rowSel);
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
	const rowIds = () => page.locator('#tasks-table tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.task));
	const total = await page.evaluate(async () =>
		(await (await fetch('/api/v1/tasks?limit=1')).json()).pagination.total);
	let page2 = [];
	await check('paging: 25 tasks on page 1, the rest on page 2, none on both', async () => {
		await page.goto(base + '/#/tasks');
		await page.reload();
		await page.waitForFunction(() => document.querySelectorAll('#tasks-table tbody tr[data-task]').length === 25);
		const page1 = await rowIds();
		const count = await page.locator('#tasks-count').textContent();
		await page.click('#page-next');
		await page.waitForFunction(() => /page 2 of 2/.test(document.querySelector('#page-info')?.textContent || ''));
		await page.waitForFunction((n) => document.querySelectorAll('#tasks-table tbody tr[data-task]').length === n, total - 25);
		page2 = await rowIds();
		return count === `${total} tasks` && total > 25 && page1.every((x) => !page2.includes(x)) &&
			new Set([...page1, ...page2]).size === total;
	});
	await check('the address holds the page; a reload shows the same page', async () => {
		const hash = await page.evaluate(() => location.hash);
		await page.reload();
		await page.waitForFunction(() => /page 2 of 2/.test(document.querySelector('#page-info')?.textContent || ''));
		await page.waitForFunction((n) => document.querySelectorAll('#tasks-table tbody tr[data-task]').length === n, total - 25);
		return /[?&]page=2(&|$)/.test(hash) && JSON.stringify(await rowIds()) === JSON.stringify(page2);
	});
	await check('sorting by the Description heading: the master sorts, the address says so', async () => {
		await page.click('#tasks-table th button[data-sort="description"]');
		await page.waitForFunction(() => /page 1 of 2/.test(document.querySelector('#page-info')?.textContent || ''));
		await page.waitForSelector('#tasks-table th[aria-sort="ascending"] button[data-sort="description"]');
		await page.waitForFunction(() => {
			const d = [...document.querySelectorAll('#tasks-table tbody tr td:nth-child(3)')].map((x) => x.textContent);
			return d.length === 25 && d.every((x, i) => !i || d[i - 1] <= x);
		});
		const descs = await page.locator('#tasks-table tbody tr td:nth-child(3)').allTextContents();
		const sorted = [...descs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
		const hash = await page.evaluate(() => location.hash);
		return JSON.stringify(descs) === JSON.stringify(sorted) && /sort=description/.test(hash) && /order=asc/.test(hash);
	});
	await check('a search goes to the master: filler-07 finds one task, and a reload keeps it', async () => {
		await page.fill('#tasks-search', 'filler-07');
		await page.waitForFunction(() => document.querySelector('#tasks-count')?.textContent === '1 task');
		const before = await rowIds();
		await page.reload();
		await page.waitForFunction(() => document.querySelector('#tasks-count')?.textContent === '1 task');
		return before.length === 1 && JSON.stringify(await rowIds()) === JSON.stringify(before) &&
			(await page.locator('#tasks-search').inputValue()) === 'filler-07' &&
			/search=filler-07/.test(await page.evaluate(() => location.hash));
	});
	await check('never an Open link for a javascript: url', async () => {
		// A hostile proxy_url (the master never sends one): the page must not link it.
		await page.route(/\/api\/v1\/tasks\?/, async (route) => {
			const res = await route.fetch({ headers: { ...route.request().headers(), 'if-none-match': '' } });
			const data = await res.json();
			for (const t of data.tasks) t.proxy_url = 'javascript:alert(1)';
			await route.fulfill({ response: res, json: data });
		});
		await page.goto(base + '/#/tasks');
		await page.reload();
		await page.waitForSelector(rowSel);
		const bad = await page.locator('#tasks-table a.open[href^="javascript"]').count();
		await page.unroute(/\/api\/v1\/tasks\?/);
		return bad === 0;
	});
	await check('no JavaScript errors', async () => {
		if (jsErrors.length) throw new Error(jsErrors.join('\n'));
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
