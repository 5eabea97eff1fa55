// SPDX-License-Identifier: GPL-2.0-or-later
// The experiment page's exploration tools in headless Chromium (driven by
// playwright-core); run by tests/web/explore.sh, which prints the TAP. One
// line per check, "ok - NAME" or "not ok - NAME". Environment: BASE_URL,
// PW_MODULES, CHROMIUM, PROFILE_DIR, ARTIFACTS, EXP_ID (a finished 12-trial
// search), ONE_ID (a finished one-trial experiment with a checkpoint),
// HIDDEN_ID (an experiment in workspace ws, where sam has no role), ADMIN_PW;
// user sam (password sam-pw-123456) owns none of them.
import path from 'node:path';
import { check, failed, openPage, logIn } from './harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const exp = Number(env.EXP_ID);
const one = Number(env.ONE_ID);
const CANVAS = '#metric-charts canvas[data-metric="validation/val_loss"]';

const { context, page, jsErrors } = await openPage(env.PROFILE_DIR, 30000);

// GET /api/v1 + p with the page's session; the parsed body.
const get = (p) => page.evaluate(async (u) => (await fetch('/api/v1' + u, { cache: 'no-store' })).json(), p);
// The val_loss chart's x range and the page pixel of a fraction of its plot area.
const xRange = () => page.evaluate((sel) => {
	const c = window.Chart.getChart(document.querySelector(sel));
	return [c.scales.x.min, c.scales.x.max];
}, CANVAS);
const plotAt = (fx, fy) => page.evaluate(([sel, fx, fy]) => {
	const cv = document.querySelector(sel);
	const c = window.Chart.getChart(cv);
	const r = cv.getBoundingClientRect(), a = c.chartArea;
	const x = a.left + (a.right - a.left) * fx;
	return { px: r.left + x, py: r.top + a.top + (a.bottom - a.top) * fy, value: c.scales.x.getValueForPixel(x) };
}, [CANVAS, fx, fy]);
const near = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
const shot = (name) => page.screenshot({ path: path.join(env.ARTIFACTS, name), fullPage: true });

try {
	let full;
	await check('admin logs in; the val_loss chart shows every trial', async () => {
		await page.goto(base + `/#/experiments/${exp}`);
		await logIn(page, 'admin', env.ADMIN_PW);
		await page.waitForFunction((sel) => {
			const cv = document.querySelector(sel);
			const c = cv && window.Chart.getChart(cv);
			return c && c.data.datasets.filter((d) => !d.raw).length === 12;
		}, CANVAS);
		full = await xRange();
		return full[1] > full[0] && await page.locator('.metric-chart[data-metric="validation/val_loss"] .zoom-reset').isHidden();
	});
	let zoomed;
	await check('dragging across the chart zooms its x axis to the dragged range', async () => {
		const a = await plotAt(0.3, 0.5), b = await plotAt(0.6, 0.5);
		await page.mouse.move(a.px, a.py);
		await page.mouse.down();
		await page.mouse.move((a.px + b.px) / 2, a.py, { steps: 4 });
		await page.mouse.move(b.px, b.py, { steps: 4 });
		await page.mouse.up();
		zoomed = await xRange();
		return near(zoomed[0], a.value) && near(zoomed[1], b.value) && zoomed[1] - zoomed[0] < full[1] - full[0] &&
			/#\/experiments\//.test(await page.evaluate(() => location.hash));
	});
	await check('the chart\'s Reset zoom button shows while zoomed', async () =>
		page.locator('.metric-chart[data-metric="validation/val_loss"] .zoom-reset').isVisible());
	await shot('doc-zoomed-chart-1280.png');
	await check('the zoom survives a poll and a redraw', async () => {
		const before = await page.getAttribute('[data-loaded]', 'data-loaded');
		await page.waitForFunction((b) => document.querySelector('[data-loaded]').dataset.loaded !== b, before);
		await page.fill('#chart-smooth', '0.5');
		await page.dispatchEvent('#chart-smooth', 'input');
		const r = await xRange();
		return near(r[0], zoomed[0]) && near(r[1], zoomed[1]);
	});
	await check('Reset zoom restores the full range', async () => {
		await page.click('.metric-chart[data-metric="validation/val_loss"] .zoom-reset');
		const r = await xRange();
		return near(r[0], full[0]) && near(r[1], full[1]) &&
			await page.locator('.metric-chart[data-metric="validation/val_loss"] .zoom-reset').isHidden();
	});
	await check('+ on the focused chart zooms in around the centre, Escape resets', async () => {
		await page.focus(CANVAS);
		await page.keyboard.press('+');
		const r = await xRange();
		const mid = (full[0] + full[1]) / 2, q = (full[1] - full[0]) / 4;
		const ok = near(r[0], mid - q) && near(r[1], mid + q);
		await page.keyboard.press('Escape');
		const back = await xRange();
		return ok && near(back[0], full[0]) && near(back[1], full[1]);
	});
	await check('a click without a drag still opens the trial', async () => {
		const p = await page.evaluate((sel) => {
			const cv = document.querySelector(sel);
			const c = window.Chart.getChart(cv);
			const i = c.data.datasets.findIndex((d) => !d.raw);
			const pt = c.getDatasetMeta(i).data[0];
			const r = cv.getBoundingClientRect();
			return { x: r.left + pt.x, y: r.top + pt.y };
		}, CANVAS);
		await page.mouse.click(p.x, p.y);
		await page.waitForFunction(() => /^#\/trials\/\d+/.test(location.hash));
		return true;
	});
	let kept;
	await check('brushing the lr axis keeps some trials', async () => {
		await page.goto(base + `/#/experiments/${exp}`);
		await page.waitForFunction(() => {
			const c = window.Chart.getChart(document.querySelector('#hp-parallel'));
			return c && c.data.datasets.length === 12;
		});
		await page.locator('#hp-parallel').scrollIntoViewIfNeeded();
		const p = await page.evaluate(() => {
			const cv = document.querySelector('#hp-parallel');
			const c = window.Chart.getChart(cv);
			const r = cv.getBoundingClientRect(), j = c.data.labels.indexOf('lr');
			const x = r.left + c.scales.x.getPixelForValue(j);
			return { x, y0: r.top + c.scales.y.getPixelForValue(0.55), y1: r.top + c.scales.y.getPixelForValue(-0.04) };
		});
		await page.mouse.move(p.x, p.y0);
		await page.mouse.down();
		await page.mouse.move(p.x, p.y1, { steps: 5 });
		await page.mouse.up();
		kept = await page.evaluate(() => window.Chart.getChart(document.querySelector('#hp-parallel')).$selected
			.map((l) => Number(l.replace('Trial ', ''))).sort((a, b) => a - b));
		if (!(kept.length > 0 && kept.length < 12)) throw new Error(`kept ${JSON.stringify(kept)}`);
	});
	await check('the Trials tab shows only the kept trials, with the master\'s total', async () => {
		await page.click('#tab-trials');
		const want = await get(`/experiments/${exp}/trials?trial_ids=${kept.join(',')}&order_by=id&limit=25`);
		await page.waitForFunction((n) => document.querySelectorAll('#trials-table tbody tr').length === n, want.trials.length);
		const got = await page.$$eval('#trials-table tbody tr', (rows) => rows.map((r) => Number(r.dataset.trial)));
		const line = await page.textContent('#trials-filter');
		return want.pagination.total === kept.length && JSON.stringify(got) === JSON.stringify(want.trials.map((t) => t.id)) &&
			line.includes(`Showing ${kept.length} of 12 trials (filtered by the parallel-coordinates selection)`) &&
			new RegExp(`\\(${kept.length} trials\\)`).test(await page.textContent('#trials-pageinfo'));
	});
	await shot('doc-filtered-trials-1280.png');
	await check('Clear removes the brush: every trial again', async () => {
		await page.click('#trials-filter-clear');
		await page.waitForFunction(() => /\(12 trials\)/.test(document.querySelector('#trials-pageinfo').textContent));
		const brushes = await page.evaluate(() => window.Chart.getChart(document.querySelector('#hp-parallel')).$brush.size);
		return brushes === 0 && await page.locator('#trials-filter').isHidden() &&
			(await page.locator('#trials-table tbody tr').count()) === 12;
	});
	await check('Fork: a refused config keeps the dialog open with the master\'s error', async () => {
		await page.click('#act-fork');
		await page.waitForSelector('#fork-dialog[open] #fork-config');
		await page.fill('#fork-config', 'searcher: [');
		await page.click('#fork-ok');
		await page.waitForFunction(() => (document.querySelector('#fork-error')?.textContent ?? '').length > 0);
		return page.locator('#fork-dialog[open]').isVisible();
	});
	await check('Fork with an edited config creates the experiment and opens it', async () => {
		const yaml = (await get(`/experiments/${exp}`)).experiment.config_yaml;
		await page.fill('#fork-config', yaml.replace('name: explore-web', 'name: explore-forked'));
		await shot('doc-fork-dialog-1280.png');
		await page.click('#fork-ok');
		await page.waitForFunction((e) => /^#\/experiments\/\d+/.test(location.hash) && !location.hash.startsWith(`#/experiments/${e}`), exp);
		const nid = Number(await page.evaluate(() => location.hash.match(/\d+/)[0]));
		const e = (await get(`/experiments/${nid}`)).experiment;
		return e.name === 'explore-forked' && e.parent_id === exp;
	});
	await check('Continue is disabled for a 12-trial experiment', async () => {
		await page.goto(base + `/#/experiments/${exp}`);
		await page.waitForSelector('#act-fork:not([disabled])');
		return page.locator('#act-continue').isDisabled();
	});
	await check('Continue of a one-trial experiment with a new max_length creates the continuation', async () => {
		await page.goto(base + `/#/experiments/${one}`);
		await page.waitForSelector('#act-continue:not([disabled])');
		await page.click('#act-continue');
		await page.fill('#fork-max-length', '5');
		await page.click('#fork-ok');
		await page.waitForFunction((e) => /^#\/experiments\/\d+/.test(location.hash) && !location.hash.startsWith(`#/experiments/${e}`), one);
		const nid = Number(await page.evaluate(() => location.hash.match(/\d+/)[0]));
		const e = (await get(`/experiments/${nid}`)).experiment;
		return e.parent_id === one && e.config.searcher.max_length.batches === 5 && !!e.config.searcher.source_checkpoint_uuid;
	});
	await check('another user may fork in the default workspace: Fork and Continue enabled', async () => {
		await page.click('#logout');
		await logIn(page, 'sam', 'sam-pw-123456');
		await page.waitForSelector('#who-name');
		await page.goto(base + `/#/experiments/${one}`);
		await page.waitForSelector('#exp-title');
		await page.waitForFunction(() => (document.querySelector('#owner-note')?.textContent ?? '').length > 0);
		return (await page.locator('#act-pause').isDisabled()) && (await page.locator('#act-fork').isEnabled()) &&
			(await page.locator('#act-continue').isEnabled()) && (await page.textContent('#fork-note')) === '';
	});
	await check('... and the fork is theirs', async () => {
		await page.click('#act-fork');
		await page.waitForSelector('#fork-dialog[open] #fork-config');
		await page.click('#fork-ok');
		await page.waitForFunction((e) => /^#\/experiments\/\d+/.test(location.hash) && !location.hash.startsWith(`#/experiments/${e}`), one);
		const nid = Number(await page.evaluate(() => location.hash.match(/\d+/)[0]));
		const [e, me] = await Promise.all([get(`/experiments/${nid}`), get('/me')]);
		return e.experiment.parent_id === one && e.experiment.owner_id === me.id;
	});
	await check('an experiment of a workspace they have no role in: 404 for the page and for fork and continue', async () => {
		const st = await page.evaluate(async (id) => {
			const h = { 'Content-Type': 'application/json', 'X-Det-CSRF': /det_csrf=([0-9a-f]+)/.exec(document.cookie)[1] };
			const post = async (w) => (await fetch(`/api/v1/experiments/${id}/${w}`, { method: 'POST', headers: h, body: '{}' })).status;
			return [(await fetch(`/api/v1/experiments/${id}`)).status, await post('fork'), await post('continue')];
		}, Number(env.HIDDEN_ID));
		return JSON.stringify(st) === '[404,404,404]';
	});
	await check('no JavaScript errors', async () => {
		if (jsErrors.length) throw new Error(jsErrors.join('\n'));
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
