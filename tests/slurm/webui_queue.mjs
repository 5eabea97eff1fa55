// SPDX-License-Identifier: GPL-2.0-or-later
// tests/slurm/webui_queue.sh's browser half: logs in as admin and checks the
// Queue page and the experiment's queue panel against the master's own view
// of the Slurm array (GET /experiments/ID/slurm). Prints "ok - NAME" or
// "not ok - NAME" per check. Environment: BASE_URL, PW_MODULES, CHROMIUM,
// PROFILE_DIR, ARTIFACTS, EXP_ID, ADMIN_PW.
import path from 'node:path';
import { check, failed, launch, logIn } from '../web/harness.mjs';

const env = process.env;
const base = env.BASE_URL;
const exp = Number(env.EXP_ID);


const context = await launch(env.PROFILE_DIR);
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(60000);
const jsErrors = [];
page.on('pageerror', (e) => jsErrors.push(e.stack || e.message));
// The master's view, as the page's own session sees it.
const slurmView = () => page.evaluate(async (id) => (await fetch(`/api/v1/experiments/${id}/slurm`)).json(), exp);

try {
	await page.goto(base + '/');
	await logIn(page, 'admin', env.ADMIN_PW);
	await page.waitForSelector('#experiments');

	await check('queue page: the pending tasks with Slurm\'s reason JobArrayTaskLimit', async () => {
		await page.goto(`${base}/#/queue`);
		await page.waitForFunction((id) => [...document.querySelectorAll('#queue-slurm tbody tr')]
			.filter((r) => r.querySelector(`a[href="#/experiments/${id}"]`) && /JobArrayTaskLimit/.test(r.textContent)).length === 2, exp);
		return true;
	});
	await page.screenshot({ path: path.join(env.ARTIFACTS, 'queue-slurm-1280.png'), fullPage: true });
	await check('queue page: positions 1, 2 in squeue\'s order; Slurm job ids and priorities as the API has them', async () => {
		const rows = await page.$$eval('#queue-slurm tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
		const v = await slurmView();
		const want = v.tasks.filter((t) => t.state === 'PENDING')
			.sort((a, b) => b.priority - a.priority || Number(a.slurm_job.split('_')[1]) - Number(b.slurm_job.split('_')[1]));
		// Columns: position, experiment, owner, array task, Slurm job, state, reason, priority.
		return rows.length === want.length && rows.every((r, i) => r[0] === String(i + 1) && r[3] === String(want[i].array_task) &&
			r[4] === want[i].slurm_job && r[5] === 'PENDING' && r[6] === want[i].reason && r[7] === String(want[i].priority));
	});
	await check('experiment page: its queue panel lists the two pending tasks with their reason', async () => {
		await page.goto(`${base}/#/experiments/${exp}`);
		await page.waitForFunction(() => [...document.querySelectorAll('#exp-queue tbody tr')]
			.filter((r) => /JobArrayTaskLimit/.test(r.textContent)).length === 2);
		await page.screenshot({ path: path.join(env.ARTIFACTS, 'experiment-queue-slurm-1280.png'), fullPage: true });
		return true;
	});
	await check('no script errors on the pages', async () => {
		if (jsErrors.length) console.log('# ' + jsErrors.join('\n# '));
		return jsErrors.length === 0;
	});
} finally {
	await context.close();
}
process.exit(failed() ? 1 : 0);
