// SPDX-License-Identifier: GPL-2.0-or-later
// The web UI in headless Chromium (Debian's, driven by playwright-core)
// against a real det-master with a running experiment. Prints one line per
// check, "ok - NAME" or "not ok - NAME" (run.sh numbers them into TAP).
// Environment: BASE_URL, PW_MODULES (node_modules holding playwright-core),
// CHROMIUM, PROFILE_DIR, ARTIFACTS, EXP_ID, ALICE_USER, ALICE_PW, BOB_USER, BOB_PW, TRIALS, STEPS,
// MODEL_TGZ_B64 (the model definition, base64).
import fs from 'node:fs';
import path from 'node:path';
import { check, failed, launch, report } from './harness.mjs';

const env = process.env;
// alice is a real Unix account (her trials run as her); her name is made per run.
const aliceRe = new RegExp(env.ALICE_USER);
const base = env.BASE_URL;
const exp = Number(env.EXP_ID);
const TRIALS = Number(env.TRIALS);
const STEPS = Number(env.STEPS);
const art = env.ARTIFACTS;



async function apiAs(token, method, p, body) {
	const res = await fetch(base + '/api/v1' + p, {
		method,
		headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
		body: body ? JSON.stringify(body) : undefined,
	});
	return { status: res.status, body: await res.json().catch(() => null) };
}

// The search's trials wait at step 4 while this file exists (see train.py).
function releaseHold() {
	if (env.HOLD_FILE) fs.rmSync(env.HOLD_FILE, { force: true });
}

async function waitFor(fn, ms, what) {
	const end = Date.now() + ms;
	let last;
	while (Date.now() < end) {
		last = await fn();
		if (last) return last;
		await new Promise((r) => setTimeout(r, 200));
	}
	throw new Error(`timed out waiting for ${what}`);
}

const context = await launch(env.PROFILE_DIR);
let bobContext = null;
// A bearer token for the test's own API checks (the pages never see one).
async function tokenOf(user, pw) {
	const r = await apiAs('', 'POST', '/auth/login', { username: user, password: pw });
	return r.body.token;
}
const outside = [];
const jsErrors = [];
context.on('request', (r) => {
	if (!r.url().startsWith(base + '/') && !r.url().startsWith('data:')) outside.push(r.url());
});

const page = context.pages()[0] || (await context.newPage());
page.on('pageerror', (e) => jsErrors.push(e.stack || e.message));
page.setDefaultTimeout(20000);
const shot = (name) => page.screenshot({ path: path.join(art, name), fullPage: true });
const hash = () => page.evaluate(() => location.hash);
let aliceToken = '';

try {
	// ---- login
	await check('login is required: / goes to the login form', async () => {
		await page.goto(base + '/');
		await page.waitForSelector('#username');
		return (await hash()) === '#/login';
	});
	await check('the API refuses the page without a token (401)', async () =>
		(await page.evaluate(async () => (await fetch('/api/v1/experiments')).status)) === 401);
	await check('login form fields have labels', async () =>
		(await page.getByLabel('User name').count()) === 1 && (await page.getByLabel('Password').count()) === 1);
	await check('a wrong password shows an error', async () => {
		await page.fill('#username', env.ALICE_USER);
		await page.fill('#password', 'not-her-password');
		await page.press('#password', 'Enter');
		await page.waitForFunction(() => (document.querySelector('#login-error')?.textContent ?? '').length > 0);
		return /wrong/i.test(await page.textContent('#login-error'));
	});
	await shot('login-1280.png');
	await check('login with Enter leads to the experiments list', async () => {
		await page.fill('#password', env.ALICE_PW);
		await page.press('#password', 'Enter');
		await page.waitForSelector(`#experiments tbody tr[data-id="${exp}"]`);
		aliceToken = await tokenOf(env.ALICE_USER, env.ALICE_PW);
		return (await hash()) === '#/experiments' && !!aliceToken;
	});
	await check('the session is an HttpOnly cookie: no token in script-readable storage', async () => {
		const seen = await page.evaluate(() => ({
			cookie: document.cookie,
			stored: JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
		}));
		const jar = await context.cookies(base);
		const sess = jar.find((c) => c.name === 'det_session');
		return !!sess && sess.httpOnly && sess.sameSite === 'Strict' && !/det_session/.test(seen.cookie) &&
			/det_csrf=/.test(seen.cookie) && !seen.stored.includes(sess.value) && !/[0-9a-f]{64}/.test(seen.stored);
	});
	await check('one login for all tabs: a new tab opens logged in', async () => {
		const tab = await context.newPage();
		tab.on('pageerror', (e) => jsErrors.push(e.message));
		await tab.goto(`${base}/#/experiments/${exp}`);
		await tab.waitForSelector('#exp-state', { timeout: 20000 });
		const who = await tab.textContent('#who-name');
		const shown = await tab.isVisible('#logout');
		await tab.screenshot({ path: path.join(art, 'second-tab-1280.png'), fullPage: true });
		await tab.close();
		return aliceRe.test(who) && shown && (await hash()) === '#/experiments';
	});

	// ---- experiments list
	await check('experiments list shows state, owner and labels', async () => {
		const row = page.locator(`#experiments tbody tr[data-id="${exp}"]`);
		const text = await row.textContent();
		return aliceRe.test(text) && /webui-test/.test(text) && /ACTIVE|COMPLETED/.test(text) && (await row.locator('progress').count()) === 1;
	});
	await check('keyboard: Enter on an experiment link opens the experiment', async () => {
		await page.locator(`#experiments tbody tr[data-id="${exp}"] a`).first().focus();
		await page.keyboard.press('Enter');
		await page.waitForSelector('#exp-state');
		return (await hash()) === `#/experiments/${exp}`;
	});

	// ---- owner actions: pause (keyboard, confirm), cancel dialog, activate
	await check('owner sees enabled actions', async () => {
		await page.waitForFunction(() => !document.querySelector('#act-pause').disabled || !document.querySelector('#act-activate').disabled, null, { timeout: 60000 });
		return !(await page.isDisabled('#act-kill'));
	});
	await check('pause from the page (Enter, confirm with Enter) → PAUSED in the API', async () => {
		await page.focus('#act-pause');
		await page.keyboard.press('Enter');
		await page.waitForSelector('#confirm[open]');
		const focused = await page.evaluate(() => document.activeElement.id);
		await page.keyboard.press('Enter');
		await waitFor(async () => (await apiAs(aliceToken, 'GET', `/experiments/${exp}`)).body.experiment.state === 'PAUSED', 60000, 'PAUSED');
		await page.waitForFunction(() => (document.querySelector('#exp-state')?.textContent ?? '') === 'PAUSED');
		return focused === 'confirm-ok';
	});
	await shot('experiment-paused-1280.png');
	await check('Escape cancels the confirmation; nothing changes', async () => {
		await page.click('#act-activate');
		await page.waitForSelector('#confirm[open]');
		await page.keyboard.press('Escape');
		await page.waitForSelector('#confirm[open]', { state: 'detached' });
		await new Promise((r) => setTimeout(r, 500));
		const st = (await apiAs(aliceToken, 'GET', `/experiments/${exp}`)).body.experiment.state;
		const back = await page.evaluate(() => document.activeElement.id);
		return st === 'PAUSED' && back === 'act-activate';
	});
	await check('activate from the page (click, confirm) → ACTIVE in the API', async () => {
		await page.click('#act-activate');
		await page.click('#confirm-ok');
		await waitFor(async () => (await apiAs(aliceToken, 'GET', `/experiments/${exp}`)).body.experiment.state === 'ACTIVE', 60000, 'ACTIVE');
		return true;
	});

	// ---- the cluster while trials run
	await check('cluster page shows running allocations and used slots', async () => {
		await page.goto(`${base}/#/cluster`);
		await page.waitForSelector(`#cluster-allocations tbody tr a[href="#/experiments/${exp}"]`, { timeout: 60000 });
		// The page polls every 5 s; the tasks may start just after a poll.
		await page.waitForFunction(() => !/^0 of/.test(document.getElementById('slots-used').textContent), null, { timeout: 60000 });
		return true;
	});
	await shot('cluster-running-1280.png');

	// ---- live logs of a running trial
	await check('trial logs follow live', async () => {
		const running = await waitFor(async () => {
			const r = await apiAs(aliceToken, 'GET', `/experiments/${exp}/trials`);
			return r.body.trials.find((t) => t.state === 'ACTIVE' && t.steps_completed < STEPS - 2);
		}, 60000, 'a running trial');
		await page.goto(`${base}/#/trials/${running.id}`);
		await page.waitForSelector('#trial-logs span');
		// Held at step 4 (train.py) until released here: the lines of the steps after it come live.
		await page.waitForFunction(() => /holding at step/.test(document.getElementById('trial-logs').textContent), null, { timeout: 60000 });
		const n0 = await page.locator('#trial-logs span').count();
		console.log(`# live logs: trial ${running.id} held after ${n0} lines`);
		releaseHold();
		await page.waitForFunction((n) => document.querySelectorAll('#trial-logs span').length > n, n0, { timeout: 60000 });
		return true;
	});
	releaseHold();
	await shot('trial-running-1280.png');

	// ---- the list again, while the search finishes
	await page.goto(`${base}/#/experiments`);
	await page.waitForSelector(`#experiments tbody tr[data-id="${exp}"]`);
	await check('search (on the master) hides non-matching experiments', async () => {
		await page.fill('#f-search', 'no-such-name');
		await page.waitForSelector(`#experiments tbody tr[data-id="${exp}"]`, { state: 'detached' });
		await page.fill('#f-search', '');
		await page.waitForSelector(`#experiments tbody tr[data-id="${exp}"]`);
		return true;
	});
	await check(`the list past 1,000: the total counts all ${env.BULK}+ and pages come from the master`, async () => {
		const all = (await apiAs(aliceToken, 'GET', '/experiments?limit=1')).body.pagination.total;
		await page.waitForFunction((n) => document.getElementById('exp-count').textContent.startsWith(`${n} experiments`), all);
		return all > Number(env.BULK) && (await page.locator('#experiments tbody tr').count()) === 50;
	});
	await check('sort by ID ascending, then page 21 holds experiments 1001-1050, and the address holds the view', async () => {
		await page.click('#experiments th button[data-sort="id"]'); // desc -> asc
		await page.waitForFunction(() => /order=asc/.test(location.hash));
		for (let i = 0; i < 20; i++) {
			const before = await page.textContent('#page-info');
			await page.click('#page-next');
			await page.waitForFunction((b) => document.getElementById('page-info').textContent !== b, before);
		}
		await page.waitForFunction(() => document.querySelector('#experiments tbody tr')?.dataset.id === '1001');
		const ids = await page.$$eval('#experiments tbody tr', (r) => r.map((x) => Number(x.dataset.id)));
		const h = await hash();
		await page.reload();
		await page.waitForFunction(() => document.querySelector('#experiments tbody tr')?.dataset.id === '1001');
		const again = await page.$$eval('#experiments tbody tr', (r) => r.map((x) => Number(x.dataset.id)));
		return ids.length === 50 && ids.every((v, i) => v === 1001 + i) && /sort=id/.test(h) && /page=21/.test(h) &&
			JSON.stringify(again) === JSON.stringify(ids) && (await page.textContent('#page-info')).startsWith('page 21 of');
	});
	await check('sort by name descending puts webui-search before the bulk ones', async () => {
		await page.click('#experiments th button[data-sort="name"]');
		await page.waitForFunction(() => /sort=name&order=desc/.test(location.hash) && !/page=/.test(location.hash));
		await page.waitForFunction((id) => document.querySelector('#experiments tbody tr')?.dataset.id === String(id), exp);
		await shot('experiments-sorted-1280.png');
		return (await page.getAttribute('#experiments th:nth-child(2)', 'aria-sort')) === 'descending';
	});
	await page.goto(`${base}/#/experiments`);
	await page.waitForSelector(`#experiments tbody tr[data-id="${exp}"]`);
	await shot('experiments-1280.png');
	await check('keyboard: Tab reaches the skip link first, with a visible focus outline', async () => {
		await page.reload();
		await page.waitForSelector(`#experiments tbody tr[data-id="${exp}"]`);
		await page.keyboard.press('Tab');
		return page.evaluate(() => {
			const a = document.activeElement;
			return a.classList.contains('skip') && getComputedStyle(a).outlineStyle !== 'none';
		});
	});
	await check('live updates keep the keyboard focus where it was', async () => {
		await page.locator(`#experiments tbody tr[data-id="${exp}"] a`).first().focus();
		await new Promise((r) => setTimeout(r, 3500)); // longer than one poll
		return page.evaluate((id) => document.activeElement.getAttribute('href') === `#/experiments/${id}`, exp);
	});

	// ---- the finished experiment: charts
	await check('experiment completes', async () => {
		await waitFor(async () => (await apiAs(aliceToken, 'GET', `/experiments/${exp}`)).body.experiment.state === 'COMPLETED', 120000, 'COMPLETED');
		return true;
	});
	await page.goto(`${base}/#/experiments/${exp}`);
	await page.waitForFunction(() => document.querySelector('#exp-state')?.textContent === 'COMPLETED');
	await check('the API returns each metrics row\'s metrics as an object', async () => {
		const t = (await apiAs(aliceToken, 'GET', `/experiments/${exp}/trials`)).body.trials[0];
		const rows = (await apiAs(aliceToken, 'GET', `/trials/${t.id}/metrics`)).body.metrics;
		return rows.length > 0 && rows.every((r) => r.metrics !== null && typeof r.metrics === 'object' &&
			!Array.isArray(r.metrics) && typeof Object.values(r.metrics)[0] === 'number');
	});
	// What the API holds per trial for one metric: the chart must show exactly that.
	const apiSeries = async (group, name) => {
		const trials = (await apiAs(aliceToken, 'GET', `/experiments/${exp}/trials`)).body.trials;
		const out = {};
		for (const t of trials) {
			const rows = (await apiAs(aliceToken, 'GET', `/trials/${t.id}/metrics?group=${group}`)).body.metrics;
			out[`Trial ${t.id}`] = rows.filter((r) => typeof r.metrics[name] === 'number').length;
		}
		return out;
	};
	// The chart of one metric (group/name) on the page, read in the browser.
	const chartOk = async (group, name) => {
		const want = await apiSeries(group, name);
		await page.waitForFunction(([key, want]) => {
			const c = window.Chart && window.Chart.getChart(document.querySelector(`canvas[data-metric="${key}"]`));
			const main = c ? c.data.datasets.filter((d) => !d.raw) : [];
			return c && main.length === Object.keys(want).length && main.every((d) => d.data.length === want[d.label]);
		}, [`${group}/${name}`, want], { timeout: 60000 });
		// Every trial ran to the end: its last point is at the last step.
		return Object.keys(want).length === TRIALS && page.evaluate(([key, s]) => window.Chart.getChart(document.querySelector(`canvas[data-metric="${key}"]`))
			.data.datasets.every((d) => d.data.length >= s - 1 && d.data[d.data.length - 1].x === s), [`${group}/${name}`, STEPS]);
	};
	await check(`one chart per metric: ${TRIALS} series (one per trial), every reported point, up to step ${STEPS}`,
		async () => (await chartOk('validation', 'val_loss')) && (await chartOk('training', 'loss')) &&
			(await chartOk('validation', 'accuracy')));
	await check('the searcher metric comes first; every training and validation metric has its chart', async () => {
		const keys = await page.$$eval('#metric-charts canvas', (c) => c.map((x) => x.dataset.metric));
		return keys[0] === 'validation/val_loss' && ['training/loss', 'validation/accuracy'].every((k) => keys.includes(k));
	});
	await check('each chart has its own y axis: title is its metric, range covers its own values only', () => page.evaluate(() => {
		const y = (key) => {
			const c = window.Chart.getChart(document.querySelector(`canvas[data-metric="${key}"]`));
			const vals = c.data.datasets.flatMap((d) => d.data.map((p) => p.y));
			return { title: c.options.scales.y.title.text, min: c.scales.y.min, max: c.scales.y.max,
				lo: Math.min(...vals), hi: Math.max(...vals), ticks: c.scales.y.ticks.map((t) => t.label) };
		};
		const a = y('validation/val_loss'), b = y('validation/accuracy');
		const covers = (s) => s.min <= s.lo && s.max >= s.hi;
		return a.title === 'val_loss' && b.title === 'accuracy' && covers(a) && covers(b) &&
			(a.min !== b.min || a.max !== b.max) && a.ticks.join() !== b.ticks.join() && a.ticks.length > 1 && b.ticks.length > 1;
	}));
	await check('curve points are the reported values', async () => {
		const r = await apiAs(aliceToken, 'GET', `/experiments/${exp}/trials`);
		const t = r.body.trials[0];
		const m = await apiAs(aliceToken, 'GET', `/trials/${t.id}/metrics?group=training`);
		const want = m.body.metrics.map((x) => x.metrics.loss);
		const got = await page.evaluate((label) => window.Chart.getChart(document.querySelector('canvas[data-metric="training/loss"]'))
			.data.datasets.find((d) => d.label === label).data.map((p) => p.y), `Trial ${t.id}`);
		return JSON.stringify(got) === JSON.stringify(want);
	});
	await check('trial colours are distinct hues', () => page.evaluate(() => {
		const c = window.Chart.getChart(document.querySelector('canvas[data-metric="validation/val_loss"]'));
		const cols = c.data.datasets.map((d) => d.borderColor);
		return new Set(cols).size === cols.length;
	}));
	await check('log y scale: every chart switches to a logarithmic axis', async () => {
		await page.selectOption('#chart-y', 'log');
		const ok = await page.evaluate(() => [...document.querySelectorAll('#metric-charts canvas')]
			.every((c) => window.Chart.getChart(c).scales.y.type === 'logarithmic'));
		await page.selectOption('#chart-y', 'linear');
		return ok;
	});
	await check('EMA smoothing: a smoothed line per trial over a faint raw one', async () => {
		await page.fill('#chart-smooth', '0.9');
		const r = await page.evaluate(() => {
			const c = window.Chart.getChart(document.querySelector('canvas[data-metric="training/loss"]'));
			const raw = c.data.datasets.filter((d) => d.raw), main = c.data.datasets.filter((d) => !d.raw);
			return { raw: raw.length, main: main.length, faint: raw.every((d) => /, 0\.25\)$/.test(d.borderColor)),
				differs: main.some((d, i) => d.data.some((p, j) => p.y !== raw[i].data[j].y)) };
		});
		await page.fill('#chart-smooth', '0');
		return r.raw === TRIALS && r.main === TRIALS && r.faint && r.differs;
	});
	await check('wall time on the x axis', async () => {
		await page.selectOption('#chart-x', 'time');
		const t = await page.evaluate(() => window.Chart.getChart(document.querySelector('canvas[data-metric="training/loss"]')).options.scales.x.title.text);
		await page.selectOption('#chart-x', 'batches');
		return /seconds/.test(t);
	});
	await check('hover shows every trial at that x', async () => {
		const box = await page.locator('canvas[data-metric="validation/val_loss"]').boundingBox();
		const px = await page.evaluate(() => {
			const c = window.Chart.getChart(document.querySelector('canvas[data-metric="validation/val_loss"]'));
			const p = c.getDatasetMeta(0).data[1];
			return { x: p.x, y: p.y };
		});
		await page.mouse.move(box.x + px.x, box.y + px.y);
		await page.waitForFunction(() => window.Chart.getChart(document.querySelector('canvas[data-metric="validation/val_loss"]')).tooltip.opacity > 0);
		return page.evaluate((n) => window.Chart.getChart(document.querySelector('canvas[data-metric="validation/val_loss"]'))
			.tooltip.dataPoints.length === n, TRIALS);
	});
	await check('clicking a line opens its trial', async () => {
		const chart = page.locator('canvas[data-metric="validation/val_loss"]');
		// A poll may redraw the chart between measuring and clicking: up to
		// three tries, each back on the experiment page whatever it opened.
		for (let attempt = 0; attempt < 3; attempt++) {
			await chart.scrollIntoViewIfNeeded();
			const box = await chart.boundingBox();
			// The point farthest from every other trial's points, so the click is unambiguous;
			// where the points end up, as the chart's click handler sees them (a chart drawn
			// again after goBack is still animating its points from the axis when measured).
			const hit = await page.evaluate(() => {
				const c = window.Chart.getChart(document.querySelector('canvas[data-metric="validation/val_loss"]'));
				const pts = c.data.datasets.flatMap((d, i) => c.getDatasetMeta(i).data
					.map((p) => ({ ...p.getProps(['x', 'y'], true), id: d.trialId })));
				let best = null;
				for (const p of pts) {
					const gap = Math.min(...pts.filter((q) => q.id !== p.id).map((q) => Math.hypot(q.x - p.x, q.y - p.y)));
					if (!best || gap > best.gap) best = { ...p, gap };
				}
				return best;
			});
			await page.mouse.click(box.x + hit.x, box.y + hit.y);
			const opened = await page.waitForFunction(() => /^#\/trials\/\d+$/.test(location.hash) && location.hash, null, { timeout: 20000 })
				.then((h) => h.jsonValue()).catch(() => null);
			if (!opened) continue;
			await page.goBack();
			await page.waitForSelector('#metric-charts canvas');
			if (opened === `#/trials/${hit.id}`) return true;
			console.log(`# the click at trial ${hit.id}'s point opened ${opened}; trying again`);
		}
		return false;
	});
	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
	await check('charts load downsampled metrics (since + max_points)', async () => {
		const urls = [];
		const f = (r) => { if (r.url().includes('/metrics?')) urls.push(r.url()); };
		page.on('request', f);
		await page.reload();
		await chartOk('validation', 'val_loss');
		page.off('request', f);
		return urls.length >= TRIALS && urls.every((u) => /since=\d+/.test(u) && /max_points=\d+/.test(u));
	});
	await check('an idle experiment page downloads no metrics: its polls are 304s with no body', async () => {
		await sleep(3500); // past the first polls after loading
		const seen = [];
		const f = async (r) => {
			if (!r.url().includes('/api/v1/')) return;
			const b = await r.body().catch(() => Buffer.alloc(0));
			seen.push({ path: new URL(r.url()).pathname, status: r.status(), bytes: b.length });
		};
		page.on('response', f);
		await sleep(7000);
		page.off('response', f);
		const metricBytes = seen.filter((x) => x.path.endsWith('/metrics')).reduce((n, x) => n + x.bytes, 0);
		const polls = seen.filter((x) => /^\/api\/v1\/experiments\/\d+(\/trials)?$/.test(x.path));
		console.log(`# idle 7 s: ${seen.length} API answers, ${seen.reduce((n, x) => n + x.bytes, 0)} body bytes, ${metricBytes} of metrics`);
		return metricBytes === 0 && polls.length >= 2 && polls.every((x) => x.status === 304 && x.bytes === 0);
	});
	await check('a hidden tab stops polling and polls again when shown', async () => {
		const setVis = (v) => page.evaluate((v) => {
			Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => v });
			document.dispatchEvent(new Event('visibilitychange'));
		}, v);
		let hidden = 0;
		let shown = 0;
		const f = (r) => { if (r.url().includes('/api/v1/')) hidden++; };
		const g = (r) => { if (r.url().includes('/api/v1/')) shown++; };
		await setVis('hidden');
		page.on('request', f);
		await sleep(7000);
		page.off('request', f);
		page.on('request', g);
		await setVis('visible');
		await sleep(1000);
		page.off('request', g);
		return hidden === 0 && shown > 0;
	});
	await check('parallel coordinates: one line per trial over hyperparameters + metric', () => page.evaluate((t) => {
		const c = window.Chart.getChart(document.getElementById('hp-parallel'));
		return c.data.labels.join(',') === 'layers,lr,best val_loss' && c.data.datasets.length === t &&
			c.data.datasets.every((d) => d.data.length === 3 && d.data.every((v) => v >= 0 && v <= 1));
	}, TRIALS));
	await check('parallel coordinates: axes labelled with their values; brushing the metric axis keeps the trials in range; a click clears it', async () => {
		const info = await page.evaluate(() => {
			const ch = window.Chart.getChart(document.getElementById('hp-parallel'));
			const j = ch.data.labels.length - 1;
			return { x: ch.scales.x.getPixelForValue(j), y1: ch.scales.y.getPixelForValue(1.04), y2: ch.scales.y.getPixelForValue(0.5),
				ticks: ch.$ticks.map((t) => t.length), want: ch.data.datasets.filter((d) => d.data[j] >= 0.5).map((d) => d.label).sort() };
		});
		const box = await page.locator('#hp-parallel').boundingBox();
		await page.mouse.move(box.x + info.x, box.y + info.y1);
		await page.mouse.down();
		await page.mouse.move(box.x + info.x, box.y + info.y2, { steps: 5 });
		await page.mouse.up();
		await page.waitForFunction((n) => window.Chart.getChart(document.getElementById('hp-parallel')).$selected.length < n, TRIALS,
			{ timeout: 5000 }).catch(() => {});
		const sel = await page.evaluate(() => window.Chart.getChart(document.getElementById('hp-parallel')).$selected.slice().sort());
		await page.locator('#hp-parallel').screenshot({ path: path.join(art, 'parallel-brushed.png') });
		const box2 = await page.locator('#hp-parallel').boundingBox(); // the screenshot may have scrolled
		await page.mouse.click(box2.x + info.x, box2.y + info.y2);
		await page.waitForFunction((n) => window.Chart.getChart(document.getElementById('hp-parallel')).$selected.length === n, TRIALS,
			{ timeout: 5000 }).catch(() => {});
		const after = await page.evaluate(() => window.Chart.getChart(document.getElementById('hp-parallel')).$selected.length);
		console.log(`# brush: ${JSON.stringify(info)} selected ${JSON.stringify(sel)} after a click ${after}`);
		return info.ticks.length === 3 && info.ticks.every((n) => n >= 1) && JSON.stringify(sel) === JSON.stringify(info.want) &&
			sel.length > 0 && sel.length < TRIALS && after === TRIALS;
	});
	await check('one scatter per hyperparameter with a point per trial', () => page.evaluate((t) =>
		['lr', 'layers'].every((h) => {
			const c = window.Chart.getChart(document.getElementById('hp-scatter-' + h));
			return c && c.data.datasets[0].data.length === t;
		}), TRIALS));
	await check('heat map: a chosen hyperparameter pair, every trial with a metric in a cell', async () => {
		await page.selectOption('#heat-x', 'lr');
		await page.selectOption('#heat-y', 'layers');
		const withMetric = (await apiAs(aliceToken, 'GET', `/experiments/${exp}/trials`)).body.trials.filter((t) => typeof t.best_metric === 'number').length;
		const d = await page.evaluate(() => ({ ...document.getElementById('hp-heatmap').dataset, label: document.getElementById('hp-heatmap').getAttribute('aria-label') }));
		return withMetric === TRIALS && Number(d.trials) === TRIALS && Number(d.cells) >= 1 && /layers \(rows\) against lr/.test(d.label);
	});
	await check('Trials tab (arrow keys from Overview): the table lists every trial', async () => {
		await page.focus('#tab-overview');
		await page.keyboard.press('ArrowRight');
		await page.waitForSelector('#trials-table', { state: 'visible' });
		return (await page.getAttribute('#tab-trials', 'aria-selected')) === 'true' && (await page.isHidden('#hp-parallel')) &&
			(await page.locator('#trials-table tbody tr').count()) === TRIALS;
	});
	await check('keyboard: Space on a column header sorts the trials table', async () => {
		const btn = page.locator('#trials-table th button[data-sort="best_metric"]');
		await btn.focus();
		await page.keyboard.press('Space'); // the master sorts: wait for its page
		await page.waitForSelector('#trials-table th:nth-child(5)[aria-sort="ascending"]');
		const asc = await page.$$eval('#trials-table tbody tr', (rows) => rows.map((r) => Number(r.cells[4].textContent)));
		const sortAsc = await page.getAttribute('#trials-table th:nth-child(5)', 'aria-sort');
		await page.locator('#trials-table th button[data-sort="best_metric"]').focus();
		await page.keyboard.press('Space');
		await page.waitForSelector('#trials-table th:nth-child(5)[aria-sort="descending"]');
		const desc = await page.$$eval('#trials-table tbody tr', (rows) => rows.map((r) => Number(r.cells[4].textContent)));
		const sorted = (a) => a.every((x, i) => i === 0 || a[i - 1] <= x);
		return sortAsc === 'ascending' && sorted(asc) && sorted([...desc].reverse()) &&
			(await page.getAttribute('#trials-table th:nth-child(5)', 'aria-sort')) === 'descending';
	});
	await check('owner can archive the finished experiment', async () => {
		await page.click('#act-archive');
		await page.click('#confirm-ok');
		await waitFor(async () => (await apiAs(aliceToken, 'GET', `/experiments/${exp}`)).body.experiment.archived === true, 60000, 'archived');
		await page.waitForFunction(() => (document.querySelector('#act-archive')?.textContent ?? '') === 'Unarchive');
		await page.click('#act-archive');
		await page.click('#confirm-ok');
		await waitFor(async () => (await apiAs(aliceToken, 'GET', `/experiments/${exp}`)).body.experiment.archived === false, 60000, 'unarchived');
		return true;
	});
	await check('Checkpoints tab: the master\'s first page of checkpoints with paths and links, and the total', async () => {
		await page.click('#tab-checkpoints');
		// The first page (25, by trial) as the master sorts it, and the total below.
		const r = (await apiAs(aliceToken, 'GET', `/experiments/${exp}/checkpoints?order_by=trial_id&limit=25`)).body;
		const ck = r.checkpoints;
		await page.waitForFunction((n) => document.querySelectorAll('#exp-checkpoints tbody tr[data-uuid] a[download]').length >= n, ck.length);
		const text = await page.textContent('#exp-checkpoints');
		return ck.length > 0 && ck.every((c) => text.includes(c.uuid) && text.includes(c.path)) &&
			(await page.textContent('#ck-pageinfo')).includes(`(${r.pagination.total} checkpoints)`);
	});
	await check('Configuration tab: the experiment\'s YAML', async () => {
		await page.click('#tab-config');
		return /name: webui-search/.test(await page.textContent('#exp-config')) && (await page.isVisible('#exp-config'));
	});
	await check('Logs tab links each trial\'s logs; Notes tab shows the description', async () => {
		await page.click('#tab-logs');
		const links = await page.locator('#exp-logs a[href^="#/trials/"]').count();
		await page.click('#tab-notes');
		return links === TRIALS && (await page.isVisible('#exp-notes'));
	});
	await page.click('#tab-overview');
	await chartOk('validation', 'val_loss').catch(() => {});
	await shot('experiment-1280.png');

	// ---- trial page
	const first = (await apiAs(aliceToken, 'GET', `/experiments/${exp}/trials`)).body.trials[0];
	await page.goto(`${base}/#/trials/${first.id}`);
	await check('trial page: logs show every step', async () => {
		await page.waitForFunction((s) => document.querySelector('#trial-logs')?.textContent.includes(`step ${s}:`), STEPS);
		return true;
	});
	await check('trial page: logs open at their end (tail); no earlier lines to load for a short log', async () => {
		const urls = [];
		const f = (r) => { if (r.url().includes('/logs?')) urls.push(r.url()); };
		page.on('request', f);
		await page.reload();
		await page.waitForFunction((s) => document.querySelector('#trial-logs')?.textContent.includes(`step ${s}:`), STEPS);
		page.off('request', f);
		return /tail=1000/.test(urls[0] || '') && (await page.isHidden('#logs-earlier'));
	});
	await check('trial page: one chart per metric holds the API\'s points', async () => {
		const rows = (await apiAs(aliceToken, 'GET', `/trials/${first.id}/metrics`)).body.metrics;
		const want = {};
		for (const r of rows) for (const k of Object.keys(r.metrics)) want[`${r.group}/${k}`] = (want[`${r.group}/${k}`] || 0) + 1;
		await page.waitForFunction((want) => Object.entries(want).every(([k, n]) => {
			const c = window.Chart.getChart(document.querySelector(`#trial-charts canvas[data-metric="${k}"]`));
			return c && c.data.datasets.length === 1 && c.data.datasets[0].data.length === n;
		}), want, { timeout: 60000 });
		return Object.keys(want).length >= 3 && rows.length >= STEPS - 1;
	});
	await check('trial page: hyperparameters and checkpoints with sizes', async () => {
		const hp = await page.textContent('#trial-hparams');
		const rows = await page.$$eval('#trial-checkpoints tbody tr', (r) => r.map((x) => x.textContent));
		const ck = (await apiAs(aliceToken, 'GET', `/trials/${first.id}/checkpoints`)).body.checkpoints;
		return /lr/.test(hp) && /layers/.test(hp) && rows.length === ck.length && /KiB/.test(rows[0]) && /val_loss=/.test(rows[0]);
	});
	await shot('trial-1280.png');

	// ---- cluster
	await page.goto(`${base}/#/cluster`);
	await check('cluster page: nodes, slots, pools, allocations', async () => {
		await page.waitForSelector('#cluster-nodes tbody tr');
		const pools = await page.textContent('#cluster-pools');
		const slots = await page.textContent('#slots-used');
		return /default/.test(pools) && /\d+ of \d+/.test(slots) && (await page.locator('#cluster-allocations').count()) === 1;
	});
	await shot('cluster-1280.png');

	// ---- queue (local manager): an experiment whose one slot at a time is busy
	// with a long first trial keeps its other trials queued until it is killed.
	{
		const config = 'name: queue-wait\nentrypoint: python3 train.py\nenvironment: {environment_variables: [WEB_SLEEP=30]}\n' +
			'hyperparameters: {lr: {type: log, minval: -4, maxval: -1}}\n' +
			'searcher: {name: random, metric: val_loss, max_trials: 3, max_concurrent_trials: 1, max_length: {batches: 50}}\n';
		const created = await apiAs(aliceToken, 'POST', '/experiments', { config, model_definition: env.MODEL_TGZ_B64, activate: true });
		const qid = created.body.id;
		await check('queue page lists the queued trials of an active experiment (local manager)', async () => {
			await page.goto(`${base}/#/queue`);
			const row = `#queue-local tbody tr:has(a[href="#/experiments/${qid}"])`;
			await page.waitForSelector(row, { timeout: 60000 });
			// The page polls every 5 s: wait until it shows what the API says.
			return waitFor(async () => {
				const want = (await apiAs(aliceToken, 'GET', `/experiments/${qid}`)).body.experiment.trials_queued;
				const shown = await page.textContent(`${row} td.queued`);
				return want > 0 && shown === String(want);
			}, 60000, 'queued count as in the API');
		});
		await shot('queue-1280.png');
		await check('experiment page: its queue panel says how many trials are queued', async () => {
			await page.goto(`${base}/#/experiments/${qid}`);
			await page.waitForFunction(() => /\d+ trials queued/.test((document.querySelector('#exp-queue') || {}).textContent || ''));
			const n = Number(/(\d+) trials queued/.exec(await page.textContent('#exp-queue'))[1]);
			return n > 0;
		});
		await apiAs(aliceToken, 'POST', `/experiments/${qid}/kill`);
		await check('a killed experiment leaves the queue', async () => {
			await page.goto(`${base}/#/queue`);
			await page.waitForSelector('#queue-local');
			await waitFor(async () => (await page.locator(`#queue-local a[href="#/experiments/${qid}"]`).count()) === 0, 60000, 'gone from the queue');
			return true;
		});
	}

	// ---- 800 px wide
	await page.setViewportSize({ width: 800, height: 900 });
	for (const [name, url, sel] of [['experiments', '#/experiments', '#experiments tbody tr'],
		['experiment', `#/experiments/${exp}`, '#metric-charts canvas'],
		['trial', `#/trials/${first.id}`, '#trial-logs span'], ['cluster', '#/cluster', '#cluster-nodes tbody tr'],
		['queue', '#/queue', '#queue-local tbody tr']]) {
		await check(`800 px: ${name} page has no sideways page scroll`, async () => {
			await page.goto(base + '/' + url);
			await page.waitForSelector(sel);
			await new Promise((r) => setTimeout(r, 300));
			await shot(`${name}-800.png`);
			return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
		});
	}
	await page.setViewportSize({ width: 1280, height: 900 });

	// ---- another user
	bobContext = await launch(env.PROFILE_DIR + '-bob');
	bobContext.on('request', (r) => {
		if (!r.url().startsWith(base + '/') && !r.url().startsWith('data:')) outside.push(r.url());
	});
	const bob = bobContext.pages()[0] || (await bobContext.newPage());
	const bobToken = await tokenOf(env.BOB_USER, env.BOB_PW);
	bob.on('pageerror', (e) => jsErrors.push(e.message));
	bob.setDefaultTimeout(20000);
	await bob.goto(base + '/');
	await bob.waitForSelector('#username');
	await bob.fill('#username', env.BOB_USER);
	await bob.fill('#password', env.BOB_PW);
	await bob.press('#password', 'Enter');
	await bob.waitForSelector(`#experiments tbody tr[data-id="${exp}"]`);
	await bob.goto(`${base}/#/experiments/${exp}`);
	await bob.waitForSelector('#exp-state');
	await check("another user sees the owner's actions disabled, with a note", async () => {
		await bob.waitForFunction(() => (document.querySelector('#owner-note')?.textContent ?? '').length > 0);
		const dis = await bob.$$eval('.actions button', (b) => b.map((x) => x.disabled));
		return dis.length === 6 && dis.every(Boolean) && aliceRe.test(await bob.textContent('#owner-note'));
	});
	await check("another user's API call on the experiment → 403", async () => {
		// With his session and its CSRF value, as the page itself would send it.
		const st = await bob.evaluate(async (id) => (await fetch(`/api/v1/experiments/${id}/archive`, {
			method: 'POST', headers: { 'X-Det-CSRF': /det_csrf=([0-9a-f]+)/.exec(document.cookie)[1] } })).status, exp);
		return st === 403;
	});
	await check('another browser\'s login is its own: alice is still alice', async () =>
		aliceRe.test(await page.evaluate(() => document.getElementById('who-name').textContent)));
	await bob.screenshot({ path: path.join(art, 'experiment-other-user-1280.png'), fullPage: true });
	await check('a user can kill their own experiment from the page', async () => {
		const config = 'name: bob-kill\nentrypoint: python3 train.py\nenvironment: {environment_variables: [WEB_SLEEP=1]}\n' +
			'searcher: {name: single, metric: val_loss, max_length: {batches: 50}}\n';
		const created = await apiAs(bobToken, 'POST', '/experiments', { config, model_definition: env.MODEL_TGZ_B64, activate: true });
		const id = created.body.id;
		await bob.goto(`${base}/#/experiments/${id}`);
		await bob.waitForFunction(() => document.querySelector('#act-kill') && !document.querySelector('#act-kill').disabled);
		await bob.focus('#act-kill');
		await bob.keyboard.press('Space');
		await bob.waitForSelector('#confirm[open]');
		await bob.click('#confirm-ok');
		const st = await waitFor(async () => {
			const s = (await apiAs(bobToken, 'GET', `/experiments/${id}`)).body.experiment.state;
			return ['STOPPING_KILLED', 'CANCELED'].includes(s) && s;
		}, 60000, 'killed');
		await bob.waitForFunction(() => /STOPPING_KILLED|CANCELED/.test((document.querySelector('#exp-state')?.textContent ?? '')));
		return created.status === 200 && !!st;
	});
	await check('a killed experiment shows the work done (not 100%) in the state\'s colour', async () => {
		const id = Number((await bob.evaluate(() => location.hash)).split('/').pop());
		await bob.waitForFunction(() => (document.querySelector('#exp-state')?.textContent ?? '') === 'CANCELED', null, { timeout: 60000 });
		await bob.waitForFunction(() => document.querySelector('#exp-progress progress')?.classList.contains('CANCELED'));
		const text = await bob.textContent('#exp-progress');
		const bar = await bob.evaluate(() => {
			const p = document.querySelector('#exp-progress progress');
			return { value: p.value, colour: getComputedStyle(p).accentColor };
		});
		const e = (await apiAs(bobToken, 'GET', `/experiments/${id}`)).body.experiment;
		await bob.screenshot({ path: path.join(art, 'experiment-killed-1280.png'), fullPage: true });
		console.log(`# killed: text ${text}, API progress ${e.progress}, bar ${bar.value} ${bar.colour}`);
		return !/100%/.test(text) && e.progress < 1 && bar.value < 1 && /rgb\(164, 14, 38\)/.test(bar.colour);
	});
	let cancelId = 0;
	await check('cancel from the page (behind a confirmation) → the API cancels', async () => {
		const config = 'name: bob-cancel\nentrypoint: python3 train.py\n' +
			'searcher: {name: single, metric: val_loss, max_length: {batches: 50}}\n';
		const created = await apiAs(bobToken, 'POST', '/experiments', { config, model_definition: env.MODEL_TGZ_B64, activate: false });
		cancelId = created.body.id;
		await bob.goto(`${base}/#/experiments/${cancelId}`);
		await bob.waitForFunction((id) => location.hash === `#/experiments/${id}` && document.querySelector('#act-cancel')?.disabled === false, cancelId);
		await bob.click('#act-cancel');
		await bob.click('#confirm-ok');
		await waitFor(async () => ['STOPPING_CANCELED', 'CANCELED'].includes((await apiAs(bobToken, 'GET', `/experiments/${created.body.id}`)).body.experiment.state), 15000, 'canceled');
		return true;
	});
	await check('delete from the page: the confirmation names the experiment and what goes with it; then it is gone', async () => {
		const id = cancelId;
		await waitFor(async () => (await apiAs(bobToken, 'GET', `/experiments/${id}`)).body.experiment.state === 'CANCELED', 60000, 'CANCELED');
		await bob.waitForFunction(() => document.querySelector('#act-delete')?.disabled === false, null, { timeout: 60000 });
		await bob.click('#act-delete');
		await bob.waitForSelector('#confirm[open]');
		const text = await bob.textContent('#confirm-text');
		await bob.click('#confirm-ok');
		await bob.waitForFunction(() => location.hash === '#/experiments');
		const gone = (await apiAs(bobToken, 'GET', `/experiments/${id}`)).status === 404;
		return gone && text.includes(`experiment ${id} "bob-cancel"`) && /trials/.test(text) && /checkpoints/.test(text);
	});
	// ---- screenshots for doc/webui.md: a 16-trial ASHA search and the list of over 1,200
	// experiments, at 1440×900 and 800 px wide (viewport only, so they stay small).
	await check('a 16-trial ASHA search completes; its page and the list are photographed for the docs', async () => {
		const config = 'name: asha-16\nentrypoint: python3 train.py\nlabels: [docs]\ndescription: 16 trials of adaptive ASHA\n' +
			'environment: {environment_variables: [WEB_SLEEP=0.05, WEB_TIME_METRIC=batches]}\n' +
			'hyperparameters:\n  lr: {type: log, minval: -4, maxval: -1}\n  layers: {type: int, minval: 1, maxval: 4}\n' +
			'searcher: {name: adaptive_asha, metric: val_loss, max_trials: 16, max_concurrent_trials: 4, max_length: {batches: 16}, divisor: 4, max_rungs: 3}\n';
		const created = await apiAs(aliceToken, 'POST', '/experiments', { config, model_definition: env.MODEL_TGZ_B64, activate: true });
		const id = created.body.id;
		const st = await waitFor(async () => {
			const e = (await apiAs(aliceToken, 'GET', `/experiments/${id}`)).body.experiment;
			return ['COMPLETED', 'CANCELED', 'ERROR'].includes(e.state) && e.state;
		}, 420000, `ASHA experiment ${id} (${created.status}) ended`);
		console.log(`# asha: experiment ${id} ${st}`);
		const n = (await apiAs(aliceToken, 'GET', `/experiments/${id}/trials`)).body.trials.length;
		for (const [w, h] of [[1440, 900], [800, 900]]) {
			await page.setViewportSize({ width: w, height: h });
			await page.goto(`${base}/#/experiments/${id}`);
			await page.waitForFunction((k) => document.querySelectorAll('#trials-table tbody tr').length === k, n);
			await page.waitForSelector('#metric-charts canvas');
			await new Promise((r) => setTimeout(r, 1500));
			await page.screenshot({ path: path.join(art, `doc-asha-experiment-${w}.png`) });
			await page.goto(`${base}/#/experiments`);
			await page.waitForSelector('#experiments tbody tr');
			await new Promise((r) => setTimeout(r, 500));
			await page.screenshot({ path: path.join(art, `doc-experiments-${w}.png`) });
		}
		await page.setViewportSize({ width: 1280, height: 900 });
		return st === 'COMPLETED' && n === 16;
	});
	await check('log out ends the session on the master; the login page shows no logout button', async () => {
		const before = (await bobContext.cookies(base)).find((c) => c.name === 'det_session');
		await bob.click('#logout');
		await bob.waitForSelector('#username');
		const gone = !(await bobContext.cookies(base)).some((c) => c.name === 'det_session');
		// The old cookie, sent by hand, is refused: revoked, not just forgotten.
		const res = await fetch(base + '/api/v1/me', { headers: { Cookie: `det_session=${before.value}` } });
		const shown = await bob.isVisible('#logout');
		console.log(`# logout: cookie gone ${gone}, old cookie answered ${res.status}, logout button shown ${shown}`);
		return gone && res.status === 401 && !shown;
	});

	report(jsErrors.length === 0, 'no JavaScript errors', jsErrors.join('\n'));
	report(outside.length === 0, 'nothing is loaded from outside the master', outside.join('\n'));
} catch (e) {
	report(false, 'browser run', e && e.stack ? e.stack : e);
} finally {
	releaseHold();
	await context.close();
	if (bobContext) await bobContext.close();
}
process.exit(failed() ? 1 : 0);
