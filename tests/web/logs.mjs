// SPDX-License-Identifier: GPL-2.0-or-later
// The trial page's logs in headless Chromium (driven by playwright-core); run
// by tests/web/logs.sh, which prints the TAP. One line per check, "ok - NAME"
// or "not ok - NAME". Environment: BASE_URL, PW_MODULES, CHROMIUM,
// PROFILE_DIR, ARTIFACTS, TRIAL_ID, ADMIN_PW, and the trial's line counts:
// TOTAL, RANK1, STDERR, RANK1_STDERR.
import path from 'node:path';
import { check, failed, openPage, logIn } from './harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const trial = Number(env.TRIAL_ID);
const total = Number(env.TOTAL);

const { context, page } = await openPage(env.PROFILE_DIR, 60000);
await page.setViewportSize({ width: 1440, height: 900 });

const countText = () => page.textContent('#logs-count');
const shownLines = () => page.locator('#trial-logs .log-line:not([hidden])').count();
// Wait until the count says "N of M lines shown" and the page shows N lines.
async function shows(n, m) {
	await page.waitForFunction((want) => document.querySelector('#logs-count')?.textContent === want,
		`${n} of ${m} lines shown`, { timeout: 60000 });
	return (await shownLines()) === n;
}

try {
	await check('the trial page opens at the last 1000 lines', async () => {
		await page.goto(base + `/#/trials/${trial}`);
		await logIn(page, 'admin', env.ADMIN_PW);
		await page.waitForSelector('#trial-logs .log-line');
		return await shows(1000, 1000);
	});
	await check('each line shows its time compactly, with the full RFC3339 timestamp as its title', async () => {
		const t = page.locator('#trial-logs .log-line .log-ts').last();
		const title = await t.getAttribute('title');
		const text = await t.textContent();
		const want = await page.evaluate((ts) => {
			const d = new Date(ts);
			const p = (n) => String(n).padStart(2, '0');
			return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
		}, title);
		return /^2026-01-01T\d\d:\d\d:\d\dZ$/.test(title) && text === want;
	});
	await check('each line shows its rank, and stderr lines are marked', async () => {
		const ranks = await page.$$eval('#trial-logs .log-line', (ls) => ls.map((l) => l.querySelector('.log-rank').textContent === `[${l.dataset.rank}]`));
		const err = await page.$$eval('#trial-logs .log-line', (ls) => ls.every((l) => l.classList.contains('stderr') === (l.dataset.stream === 'stderr')));
		return ranks.length === 1000 && ranks.every(Boolean) && err;
	});
	await check('the rank filter offers All and each rank seen', async () =>
		(await page.$$eval('#logs-rank option', (os) => os.map((o) => o.textContent))).join() === 'All,0,1');
	await check('a search over the held lines does not find the oldest line, and says what it searched', async () => {
		await page.getByLabel('Search').fill('oldest NEEDLE');
		await page.waitForFunction(() => /^0 matches in the 1000 lines held; older lines are not searched/.test(document.querySelector('#logs-scope')?.textContent ?? ''));
		return (await shownLines()) === 0 && (await page.isDisabled('#logs-next'));
	});
	await check('"Load all earlier lines" loads every line of the trial', async () => {
		await page.click('#logs-all');
		await page.waitForFunction((n) => document.querySelectorAll('#trial-logs .log-line').length === n, total, { timeout: 60000 });
		return await shows(1, total);
	});
	await check('... then the search finds the oldest line, highlighted, and says it searched the whole log', async () => {
		const m = page.locator('#trial-logs .log-line.match');
		const scope = await page.textContent('#logs-scope');
		return (await m.count()) === 1 && (await m.locator('mark').textContent()) === 'Oldest Needle' &&
			/^1 matches in the \d+ lines held \(the whole log\)/.test(scope) && (await page.isHidden('#logs-all'));
	});
	await check('"Next match" scrolls to the match', async () => {
		await page.evaluate(() => { document.querySelector('#trial-logs').scrollTop = 1e9; });
		await page.click('#logs-next');
		await page.waitForSelector('#trial-logs .log-line.current');
		return page.evaluate(() => {
			const box = document.querySelector('#trial-logs').getBoundingClientRect();
			const r = document.querySelector('#trial-logs .log-line.current').getBoundingClientRect();
			return r.top >= box.top && r.bottom <= box.bottom;
		});
	});
	await check('the search is case-insensitive over every line ("STEP 59": 111 lines)', async () => {
		await page.getByLabel('Search').fill('STEP 59');
		// step 59, 590-599, 5900-5999
		return await shows(111, total);
	});
	await check('rank 1 shows exactly the lines of rank 1', async () => {
		await page.getByLabel('Search').fill('');
		await page.getByLabel('Rank').selectOption('1');
		return await shows(Number(env.RANK1), total);
	});
	await check('stream stderr with all ranks shows exactly the stderr lines', async () => {
		await page.getByLabel('Rank').selectOption('');
		await page.getByLabel('Stream').selectOption('stderr');
		return (await shows(Number(env.STDERR), total)) &&
			(await page.$$eval('#trial-logs .log-line:not([hidden])', (ls) => ls.every((l) => l.dataset.stream === 'stderr')));
	});
	await check('rank 1 and stderr together', async () => {
		await page.getByLabel('Rank').selectOption('1');
		return await shows(Number(env.RANK1_STDERR), total);
	});
	await page.getByLabel('Rank').selectOption('');
	await page.getByLabel('Stream').selectOption('');
	await page.getByLabel('Search').fill('loss=0.0002');
	await page.waitForFunction(() => /matches/.test(document.querySelector('#logs-scope')?.textContent ?? ''));
	await check('the controls are reachable with the keyboard (with a search, the match buttons too)', async () => {
		await page.focus('#logs-rank');
		const order = [];
		for (let i = 0; i < 4; i++) {
			await page.keyboard.press('Tab');
			order.push(await page.evaluate(() => document.activeElement?.id));
		}
		return order.join() === 'logs-stream,logs-search,logs-prev,logs-next';
	});
	await page.click('#logs-next');
	await page.locator('#h-logs').scrollIntoViewIfNeeded();
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'doc-trial-logs-1440.png') });
	await check('the download link\'s file is every line as "TIMESTAMP [rank] stream: line"', async () => {
		const href = await page.getAttribute('#logs-download', 'href');
		const r = await page.evaluate(async (u) => {
			const res = await fetch(u, { cache: 'no-store' });
			return { status: res.status, cd: res.headers.get('content-disposition'), text: await res.text() };
		}, href);
		const lines = r.text.split('\n');
		const last = lines.pop();
		return r.status === 200 && last === '' && lines.length === total &&
			r.cd === `attachment; filename="trial-${trial}.log"` &&
			(await page.getAttribute('#logs-download', 'download')) === `trial-${trial}.log` &&
			lines.every((l) => /^\S+ \[\d+\] (stdout|stderr): /.test(l)) &&
			lines.includes('2026-01-01T00:00:01Z [1] stdout: the Oldest Needle is here') &&
			lines[lines.length - 1] === '2026-01-01T01:40:00Z [0] stderr: step 6000: loss=0.000167';
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
