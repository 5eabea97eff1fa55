// SPDX-License-Identifier: GPL-2.0-or-later
// tests/slurm/notebook.sh's browser half: logs in to the web UI as the
// notebook's owner (the session cookie is then the only credential), opens the
// notebook's URL through the master, creates a notebook through the proxied
// REST API, types a cell into Jupyter's page, runs it and reads what the kernel
// printed: socket.gethostname() and SLURMD_NODENAME, which must be WANT.
// Prints "ok - NAME" or "not ok - NAME" per check. Environment: BASE_URL,
// NB_URL, PW_MODULES, CHROMIUM, PROFILE_DIR, ARTIFACTS, USER_NAME, USER_PW, WANT.
import path from 'node:path';
import { check, failed, launch, logIn } from '../web/harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const nb = env.NB_URL;

const context = await launch(env.PROFILE_DIR);
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(60000);

try {
	await check(`the web UI logs in as ${env.USER_NAME}`, async () => {
		await page.goto(base + '/');
		await logIn(page, env.USER_NAME, env.USER_PW);
		await page.waitForSelector('#experiments');
		return true;
	});
	await check('the notebook URL loads Jupyter through the master (session cookie)', async () => {
		const r = await page.goto(nb);
		await page.waitForSelector('#notebook_list');
		return r.ok();
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'notebook-slurm-tree.png') });
	let got = '';
	const ran = await check('a cell typed into the notebook prints the compute node\'s names', async () => {
		const made = await page.evaluate(async (u) => {
			const r = await fetch(u + 'api/contents', {
				method: 'POST', headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ type: 'notebook' }),
			});
			return r.ok ? (await r.json()).path : `HTTP ${r.status}`;
		}, nb);
		if (!/\.ipynb$/.test(made)) throw new Error(`creating a notebook: ${made}`);
		await page.goto(`${nb}notebooks/${encodeURIComponent(made)}`);
		await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
			Jupyter.notebook.kernel.is_connected(), null, { timeout: 120000 });
		await page.click('.cell .CodeMirror');
		await page.keyboard.type('import os, socket; print(socket.gethostname(), os.environ.get("SLURMD_NODENAME"))');
		await page.keyboard.press('Shift+Enter');
		const out = await page.waitForSelector('.output_area .output_stdout pre', { timeout: 120000 });
		got = (await out.textContent()).trim();
		return got === env.WANT;
	});
	if (!ran) console.log(`# printed "${got}", want "${env.WANT}"`);
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'notebook-slurm-cell.png') });
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
