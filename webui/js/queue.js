// SPDX-License-Identifier: GPL-2.0-or-later
// Queue page and the experiment page's queue panel: what waits to run. With
// Slurm, every pending array task of the active experiments with its job id,
// Slurm's pending reason and priority, and its position (pending tasks in
// squeue's order: priority, highest first, then job id), all from the
// master's cached view of the arrays (GET /experiments/ID/slurm; no request
// here reaches slurmctld). With the local manager, the queued trials of each
// active experiment (planned trials that no task has started yet).
import { api } from './api.js';
import { el, errorBox, keepFocus, tableWrap } from './util.js';

const POLL_MS = 5000;

function table(id, label, heads, rows, empty) {
	return tableWrap(label, el('table', { id },
		el('caption', { class: 'sr-only', text: label }),
		el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col', text: h })))),
		el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: String(heads.length), class: 'muted', text: empty })))));
}

function jobKey(j) {
	const [id, idx] = String(j).split('_').map(Number);
	return [id || 0, idx || 0];
}

// Pending tasks of [experiment, slurm view] pairs, in squeue's order, numbered.
export function pendingTasks(views) {
	const rows = [];
	for (const [x, v] of views) {
		for (const t of (v && v.tasks) || []) {
			if (t.state === 'PENDING') rows.push({ exp: x, ...t });
		}
	}
	rows.sort((a, b) => {
		if ((b.priority || 0) !== (a.priority || 0)) return (b.priority || 0) - (a.priority || 0);
		const [ja, ia] = jobKey(a.slurm_job);
		const [jb, ib] = jobKey(b.slurm_job);
		return ja - jb || ia - ib;
	});
	rows.forEach((r, i) => { r.position = i + 1; });
	return rows;
}

function slurmTable(rows, names, withExp) {
	const heads = ['Position', ...(withExp ? ['Experiment', 'Owner'] : []), 'Array task', 'Slurm job', 'State', 'Pending reason', 'Priority'];
	return table('queue-slurm', 'Pending Slurm jobs', heads, rows.map((r) => el('tr', {},
		el('td', { class: 'num', text: String(r.position) }),
		withExp && el('td', {}, el('a', { href: `#/experiments/${r.exp.id}`, text: `${r.exp.id} ${r.exp.name}` })),
		withExp && el('td', { text: names.get(r.exp.owner_id) || `user ${r.exp.owner_id}` }),
		el('td', { class: 'num', text: String(r.array_task) }),
		el('td', { text: r.slurm_job }),
		el('td', { text: r.state }),
		el('td', { class: 'reason', text: r.reason || '–' }),
		el('td', { class: 'num', text: r.priority === undefined ? '–' : String(r.priority) }))), 'Nothing is pending.');
}

function localTable(exps, names) {
	const rows = exps.filter((x) => x.trials_queued > 0);
	return table('queue-local', 'Queued trials', ['Experiment', 'Owner', 'Queued trials', 'Running', 'At most at once'], rows.map((x) => el('tr', {},
		el('td', {}, el('a', { href: `#/experiments/${x.id}`, text: `${x.id} ${x.name}` })),
		el('td', { text: names.get(x.owner_id) || `user ${x.owner_id}` }),
		el('td', { class: 'num queued', text: String(x.trials_queued) }),
		el('td', { class: 'num', text: String(x.trials_running) }),
		el('td', { class: 'num', text: String(x.max_concurrent ?? '–') }))), 'No trial is queued.');
}

export async function render(ctx) {
	const body = el('div', { id: 'queue' });
	ctx.main.append(el('h1', { text: 'Queue' }), body);
	await ctx.every(POLL_MS, async () => {
		let master, list, users;
		try {
			[master, list, users] = await Promise.all([
				api('/master', { signal: ctx.signal }),
				api('/experiments?limit=1000&archived=1&state=ACTIVE', { signal: ctx.signal }),
				api('/users', { signal: ctx.signal }).catch(() => ({ users: [] })),
			]);
		} catch (e) {
			if (e.name !== 'AbortError') body.replaceChildren(errorBox(e));
			return;
		}
		const names = new Map(users.users.map((u) => [u.id, u.username]));
		const exps = list.experiments;
		let view;
		if (master.resource_manager === 'slurm') {
			const views = await Promise.all(exps.filter((x) => x.rm_job_id).map((x) =>
				api(`/experiments/${x.id}/slurm`, { signal: ctx.signal }).then((v) => [x, v]).catch(() => [x, null])));
			view = [el('p', { class: 'note', text: 'Pending array tasks of the active experiments, in the order squeue lists them (priority, then job id), as the master last read them from Slurm.' }),
				slurmTable(pendingTasks(views), names, true)];
		} else {
			view = [el('p', { class: 'note', text: `Resource manager ${master.resource_manager}: trials wait for free slots and their experiment's max_concurrent_trials.` }),
				localTable(exps, names)];
		}
		keepFocus(body, () => body.replaceChildren(...view));
	});
}

// The experiment page's panel: this experiment's pending tasks (Slurm) or its
// queued trials (local); refresh(exp) redraws it.
export function queuePanel(ctx, id) {
	const box = el('div', { id: 'exp-queue' });
	async function refresh(exp) {
		if (!exp.rm_job_id || exp.state !== 'ACTIVE') {
			box.replaceChildren(el('p', { class: 'muted', text: `${exp.trials_queued || 0} trials queued.` }));
			return;
		}
		const v = await api(`/experiments/${id}/slurm`, { signal: ctx.signal }).catch(() => null);
		if (!v || v.resource_manager !== 'slurm') {
			box.replaceChildren(el('p', { class: 'muted', text: `${exp.trials_queued || 0} trials queued (resource manager ${v ? v.resource_manager : '?'}).` }));
			return;
		}
		box.replaceChildren(slurmTable(pendingTasks([[exp, v]]), new Map(), false));
	}
	return { box, refresh };
}
