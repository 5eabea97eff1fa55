// SPDX-License-Identifier: GPL-2.0-or-later
// The compare view, the master-paged trials and checkpoints tables and the
// password page in headless Chromium (driven by playwright-core); run by
// tests/web/views.sh, which prints the TAP. One line per check, "ok - NAME" or
// "not ok - NAME". Environment: BASE_URL, PW_MODULES, CHROMIUM, PROFILE_DIR,
// ARTIFACTS, EXP_ID (a finished 12-trial search), CKPT (a checkpoint with
// files), ADMIN_PW.
import path from 'node:path';
import { check, failed, openPage, logIn } from './harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const exp = Number(env.EXP_ID);

const { context, page, jsErrors } = await openPage(env.PROFILE_DIR, 30000);

// GET /api/v1 + p with the page's session; the parsed body.
const get = (p) => page.evaluate(async (u) => (await fetch('/api/v1' + u, { cache: 'no-store' })).json(), p);

try {
	await check('admin logs in and opens the Trials tab from the address', async () => {
		await page.goto(base + `/#/experiments/${exp}?tab=trials&tlimit=5`);
		await logIn(page, 'admin', env.ADMIN_PW);
		await page.waitForSelector('#trials-table tbody tr');
		return (await page.getAttribute('#tab-trials', 'aria-selected')) === 'true' &&
			(await page.locator('#trials-table tbody tr').count()) === 5 &&
			/Page 1 of 3 \(12 trials\)/.test(await page.textContent('#trials-pageinfo'));
	});
	await check('sorting by a column is the master\'s order', async () => {
		await page.click('#trials-table th button[data-sort="hp:lr"]');
		await page.waitForSelector('#trials-table th[aria-sort="ascending"] button[data-sort="hp:lr"]');
		const want = (await get(`/experiments/${exp}/trials?order_by=hparams.lr&order=asc&limit=5`)).trials.map((t) => String(t.id));
		const got = await page.$$eval('#trials-table tbody tr', (rows) => rows.map((r) => r.dataset.trial));
		return JSON.stringify(want) === JSON.stringify(got) && /tsort=hparams.lr/.test(await page.evaluate(() => location.hash));
	});
	await check('page 2 shows the master\'s second page, and the address holds it', async () => {
		await page.click('#trials-next');
		await page.waitForFunction(() => /Page 2 of 3/.test((document.querySelector('#trials-pageinfo')?.textContent ?? '')));
		const want = (await get(`/experiments/${exp}/trials?order_by=hparams.lr&order=asc&limit=5&offset=5`)).trials.map((t) => String(t.id));
		await page.waitForFunction((w) => [...document.querySelectorAll('#trials-table tbody tr')].map((r) => r.dataset.trial).join() === w, want.join());
		return /tpage=2/.test(await page.evaluate(() => location.hash));
	});
	await check('a reload keeps the view (sorted, page 2)', async () => {
		await page.reload();
		await page.waitForSelector('#trials-table th[aria-sort="ascending"] button[data-sort="hp:lr"]');
		const want = (await get(`/experiments/${exp}/trials?order_by=hparams.lr&order=asc&limit=5&offset=5`)).trials.map((t) => String(t.id));
		await page.waitForFunction((w) => [...document.querySelectorAll('#trials-table tbody tr')].map((r) => r.dataset.trial).join() === w, want.join());
		return true;
	});
	let picked = [];
	await check('selecting 3 trials opens the compare view with their ids in the address', async () => {
		const boxes = page.locator('#trials-table tbody input.compare-pick');
		for (let i = 0; i < 3; i++) await boxes.nth(i).check();
		picked = await page.$$eval('#trials-table tbody tr', (rows) => rows.slice(0, 3).map((r) => Number(r.dataset.trial)));
		await page.click('#compare-btn');
		await page.waitForSelector('#compare-hparams tbody tr');
		const ids = await page.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('trials'));
		return ids === [...picked].sort((a, b) => a - b).join(',');
	});
	await check('the compare view has 3 columns with the trials\' hyperparameters', async () => {
		const heads = await page.$$eval('#compare-hparams thead th[data-trial]', (ths) => ths.map((t) => Number(t.dataset.trial)));
		const trials = await Promise.all(picked.map((t) => get(`/trials/${t}`)));
		const byId = new Map(trials.map((r) => [r.trial.id, r.trial]));
		const lrCells = await page.$$eval('#compare-hparams tr[data-hp="lr"] td', (tds) => tds.map((t) => t.textContent));
		const layers = await page.$$eval('#compare-hparams tr[data-hp="layers"] td', (tds) => tds.map((t) => t.textContent));
		return heads.length === 3 && heads.every((h) => byId.has(h)) &&
			layers.join() === heads.map((h) => String(byId.get(h).hparams.layers)).join() && lrCells.length === 3;
	});
	await check('differing hyperparameters are marked, equal ones are not', async () =>
		(await page.locator('#compare-hparams tr.differs[data-hp="lr"]').count()) === 1 &&
		(await page.locator('#compare-hparams tr.differs[data-hp="optimizer"]').count()) === 0);
	await check('latest / best validation metrics per trial', async () => {
		const cells = await page.$$eval('#compare-metrics tr[data-metric="val_loss"] td', (tds) => tds.map((t) => t.textContent));
		return cells.length === 3 && cells.every((c) => /^\S+ \/ \S+$/.test(c));
	});
	await check('the val_loss chart has 3 series, one per compared trial', async () => {
		await page.waitForSelector('#compare-charts canvas[data-metric="validation/val_loss"]');
		const labels = await page.evaluate(() => window.Chart.getChart(document.querySelector('#compare-charts canvas[data-metric="validation/val_loss"]'))
			.data.datasets.filter((d) => !d.raw).map((d) => d.label));
		return labels.length === 3 && picked.every((t) => labels.includes(`Trial ${t}`));
	});
	await page.setViewportSize({ width: 1440, height: 900 });
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'doc-compare-1440.png'), fullPage: true });
	await check('Checkpoints tab: paged by the master, sorted by a column', async () => {
		await page.goto(base + `/#/experiments/${exp}?tab=checkpoints&climit=10`);
		await page.waitForFunction(() => /Page 1 of 4 \(36 checkpoints\)/.test((document.querySelector('#ck-pageinfo')?.textContent ?? '')));
		await page.click('#exp-checkpoints th button[data-sort="steps_completed"]');
		await page.waitForSelector('#exp-checkpoints th[aria-sort="ascending"] button[data-sort="steps_completed"]');
		await page.click('#exp-checkpoints th button[data-sort="steps_completed"]');
		await page.waitForSelector('#exp-checkpoints th[aria-sort="descending"] button[data-sort="steps_completed"]');
		await page.click('#ck-next');
		await page.waitForFunction(() => /Page 2 of 4/.test((document.querySelector('#ck-pageinfo')?.textContent ?? '')));
		const want = (await get(`/experiments/${exp}/checkpoints?order_by=steps_completed&order=desc&limit=10&offset=10`)).checkpoints.map((c) => c.uuid);
		await page.waitForFunction((w) => [...document.querySelectorAll('#exp-checkpoints tbody tr')].map((r) => r.dataset.uuid).join() === w, want.join());
		return /csort=steps_completed&corder=desc&cpage=2/.test(await page.evaluate(() => location.hash));
	});
	await check('each checkpoint row shows its size, metrics and a tar download link', async () => {
		const row = page.locator('#exp-checkpoints tbody tr').first();
		const text = await row.textContent();
		return /4 B/.test(text) && /val_loss=/.test(text) && (await row.locator('a.download[href$="/download"]').count()) === 1;
	});
	await check('the download link of a checkpoint with files is a tar', async () => {
		const r = await page.evaluate(async (u) => {
			const res = await fetch(`/api/v1/checkpoints/${u}/download`);
			const b = new Uint8Array(await res.arrayBuffer());
			return { status: res.status, type: res.headers.get('Content-Type'), magic: String.fromCharCode(...b.slice(257, 262)) };
		}, env.CKPT);
		return r.status === 200 && r.type === 'application/x-tar' && r.magic === 'ustar';
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'doc-checkpoints-1440.png'), fullPage: true });
	await check('admin logs out; pat logs in', async () => {
		await page.click('#logout');
		await logIn(page, 'pat', 'pat-old-pw-1');
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
		await page.waitForFunction(() => (document.querySelector('#password-error')?.textContent ?? '').length > 0);
		return /differ/.test(await page.textContent('#password-error'));
	});
	await check('a too short password: the master\'s refusal is shown', async () => {
		await page.fill('#new-password', 'short');
		await page.fill('#new-password2', 'short');
		await page.click('#password-save');
		await page.waitForFunction(() => /Not changed/.test((document.querySelector('#password-error')?.textContent ?? '')));
		return true;
	});
	await check('changing it says so', async () => {
		await page.fill('#new-password', 'pat-new-pw-2');
		await page.fill('#new-password2', 'pat-new-pw-2');
		await page.click('#password-save');
		await page.waitForFunction(() => /Password changed/.test((document.querySelector('#password-done')?.textContent ?? '')));
		return (await page.textContent('#password-error')) === '';
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'doc-password-1440.png'), fullPage: true });
	await check('log out, then the new password logs in', async () => {
		await page.click('#logout');
		await logIn(page, 'pat', 'pat-new-pw-2');
		await page.waitForSelector('#who-name');
		await page.waitForFunction(() => /pat/.test((document.querySelector('#who-name')?.textContent ?? '')));
		return (await page.evaluate(() => location.hash)) !== '#/login';
	});
	await check('no JavaScript errors', async () => {
		if (jsErrors.length) throw new Error(jsErrors.join('\n'));
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
