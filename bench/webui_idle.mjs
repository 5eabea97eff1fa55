// SPDX-License-Identifier: GPL-2.0-or-later
// Idle-page and render bench of the web UI in headless Chromium (run by
// bench/webui_idle.sh, which prepares the master). For each page: open it,
// wait until it is drawn, then for IDLE_S seconds sum the CPU ticks of the
// browser's renderer processes (found under this node process in /proc) and
// the bytes received (CDP Network events: headers and bodies). The
// baseline is the login page, which polls nothing. Environment: BASE_URL,
// PW_MODULES, CHROMIUM, PROFILE_DIR, EXP_ID, TRIAL_ID, ROWS, ADMIN_PW,
// BENCH_IDLE_S (60), BENCH_OPENS (5).
import fs from 'node:fs';
import { launch } from '../tests/web/harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const idleS = Number(env.BENCH_IDLE_S || 60);
const opens = Number(env.BENCH_OPENS || 5);
const TICKS_PER_S = 100; // USER_HZ on Linux
const TARGET_CPU_PCT = 1;
const TARGET_BYTES_S = 5000;
const TARGET_DRAWN_MS = 1000;

// Renderer processes among this process's descendants: pid -> ticks.
function rendererTicks() {
	const parent = new Map();
	const ticks = new Map();
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		let stat;
		try {
			stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
		} catch {
			continue; // it ended meanwhile
		}
		const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
		parent.set(Number(d), Number(f[1]));
		ticks.set(Number(d), Number(f[11]) + Number(f[12])); // utime + stime
	}
	const out = new Map();
	for (const [pid, t] of ticks) {
		let p = pid;
		while (p > 1 && p !== process.pid) p = parent.get(p) || 0;
		if (p !== process.pid) continue;
		let cmd = '';
		try {
			cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		} catch {
			continue;
		}
		if (cmd.includes('--type=renderer')) out.set(pid, t);
	}
	return out;
}

// Leave page idle for idleS seconds: {cpuPct, bytesS, responses}.
async function idle(page) {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	let responses = 0;
	// Per request, the larger of its headers' bytes (responseReceivedExtraInfo)
	// and its total at loadingFinished (headers and body): Chromium sends no
	// loadingFinished for the 304s of the polls.
	const seen = new Map();
	const rec = (id) => seen.get(id) || seen.set(id, { head: 0, total: 0 }).get(id);
	cdp.on('Network.responseReceived', () => responses++);
	cdp.on('Network.responseReceivedExtraInfo', (e) => (rec(e.requestId).head = (e.headersText || '').length));
	cdp.on('Network.loadingFinished', (e) => (rec(e.requestId).total = e.encodedDataLength || 0));
	const t0 = rendererTicks();
	const start = Date.now();
	await new Promise((res) => setTimeout(res, idleS * 1000));
	const t1 = rendererTicks();
	const secs = (Date.now() - start) / 1000;
	await cdp.detach();
	let used = 0;
	for (const [pid, t] of t1) used += t - (t0.get(pid) ?? t);
	let bytes = 0;
	for (const r of seen.values()) bytes += Math.max(r.head, r.total);
	return { cpuPct: (100 * used) / TICKS_PER_S / secs, bytesS: bytes / secs, responses, renderers: t1.size };
}

function line(name, r, floor) {
	const ratio = (a, b) => (b > 0 ? `, ${(a / b).toFixed(1)}x the login page's` : '');
	console.log(`  ${name}\n` +
		`    cpu      ${r.cpuPct.toFixed(2).padStart(7)} % of a core  (target <= ${TARGET_CPU_PCT} %: ` +
		`${(r.cpuPct / TARGET_CPU_PCT).toFixed(2)} of it${ratio(r.cpuPct, floor.cpuPct)})\n` +
		`    received ${r.bytesS.toFixed(1).padStart(7)} B/s          (target <= ${TARGET_BYTES_S} B/s: ` +
		`${(r.bytesS / TARGET_BYTES_S).toFixed(3)} of it${ratio(r.bytesS, floor.bytesS)}; ${r.responses} responses)\n` +
		`    renderer processes: ${r.renderers}`);
}

const context = await launch(env.PROFILE_DIR);
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(120000);
// What the page said, shown when a step fails.
const said = [];
page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') said.push(`console ${m.type()}: ${m.text()}`); });
page.on('pageerror', (e) => said.push(`page error: ${e.message}`));
page.on('response', (r) => { if (r.status() >= 400) said.push(`HTTP ${r.status()} ${r.url()}`); });
try {
	await page.goto(base + '/#/login');
	await page.waitForSelector('#username');
	await page.waitForTimeout(1000);
	const floor = await idle(page);
	await page.fill('#username', 'admin');
	await page.fill('#password', env.ADMIN_PW);
	await page.press('#password', 'Enter');
	// The login page itself set data-ready: wait for the page the login leads
	// to, or its navigation would replace the experiment page opened next.
	await page.waitForSelector('#main[data-ready="#/experiments"]');

	await page.evaluate(() => delete document.getElementById('main').dataset.loaded);
	await page.goto(base + `/#/experiments/${env.EXP_ID}`);
	await page.waitForSelector('#main[data-loaded] canvas', { state: 'attached' });
	await page.waitForTimeout(2000);
	const exp = await idle(page);
	await page.goto(base + `/#/trials/${env.TRIAL_ID}`);
	await page.waitForSelector('#trial-charts[data-drawn]');
	await page.waitForTimeout(2000);
	const trial = await idle(page);

	// Render: a fresh tab each time, so navigation start is the page's own.
	const drawn = [];
	const waits = [];
	for (let i = 0; i < opens; i++) {
		const p = await context.newPage();
		await p.goto(base + `/#/trials/${env.TRIAL_ID}`);
		await p.waitForSelector('#trial-charts[data-drawn]', { timeout: 120000 });
		drawn.push(Number(await p.getAttribute('#trial-charts', 'data-drawn')));
		// How much of it was the master's answer of the downsampled metrics.
		waits.push(await p.evaluate(() => Math.round(performance.getEntriesByType('resource')
			.filter((e) => /\/metrics\?/.test(e.name)).reduce((n, e) => n + e.duration, 0))));
		await p.close();
	}
	const mid = (v) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
	const waitMed = mid(waits);
	drawn.sort((a, b) => a - b);

	console.log(`idle pages, ${idleS} s each, finished experiment ${env.EXP_ID} (trial of ${env.ROWS} metric rows)`);
	line('login page (baseline, no polling)', floor, floor);
	line('experiment page', exp, floor);
	line('trial page', trial, floor);
	const med = drawn[Math.floor((drawn.length - 1) / 2)];
	console.log(`open the trial page of ${env.ROWS} rows, navigation start to charts drawn (${opens} opens):` +
		` median ${med} ms, max ${drawn[drawn.length - 1]} ms (target <= ${TARGET_DRAWN_MS} ms: ${(med / TARGET_DRAWN_MS).toFixed(2)} of it);` +
		` of which waiting for the metrics answers: median ${waitMed} ms`);
} catch (e) {
	console.log(`failed at ${page.url()}:`);
	for (const l of said.slice(-20)) console.log(`  ${l}`);
	throw e;
} finally {
	await context.close();
}
