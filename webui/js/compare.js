// SPDX-License-Identifier: GPL-2.0-or-later
// Compare view (#/compare?trials=1,2,3): two or more trials side by side, one
// column each: their hyperparameters (a row whose values differ is marked),
// the latest and best value of each validation metric, and one chart per
// metric overlaying only these trials (charts.js metricGrid, as on the
// experiment page). The trial ids are the address, so a link shows the same
// comparison. Refreshed every 3 seconds while a trial still runs.
import { api, TrialSeries } from './api.js';
import { metricGrid } from './charts.js';
import { el, errorBox, fmtNum, hparamText, stateBadge, tableWrap } from './util.js';

const POLL_MS = 3000;
const MAX_TRIALS = 20;
const TERMINAL = ['COMPLETED', 'CANCELED', 'ERROR'];

// The trial ids of the address: distinct positive integers, in their order.
export function trialIds(hash) {
	const i = hash.indexOf('?');
	const q = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
	return [...new Set((q.get('trials') || '').split(',').map((s) => s.trim()).filter((s) => /^\d+$/.test(s)).map(Number))]
		.filter((n) => n > 0);
}

// Flatten nested hyperparameters into "a.b" names.
function flat(hp, prefix = '', out = {}) {
	for (const [k, v] of Object.entries(hp || {})) {
		if (v && typeof v === 'object' && !Array.isArray(v)) flat(v, prefix + k + '.', out);
		else out[prefix + k] = v;
	}
	return out;
}

export async function render(ctx) {
	const ids = trialIds(location.hash);
	const title = el('h1', { id: 'compare-title', text: `Compare trials ${ids.join(', ')}` });
	ctx.main.append(title);
	if (ids.length < 2 || ids.length > MAX_TRIALS) {
		ctx.main.append(el('p', { class: 'error', role: 'alert', id: 'compare-error',
			text: `Choose from 2 to ${MAX_TRIALS} trials (the address holds ?trials=ID,ID,...); select them in an experiment's Trials table.` }));
		return;
	}
	let trials = (await Promise.all(ids.map((t) => api(`/trials/${t}`, { signal: ctx.signal })))).map((r) => r.trial);
	const exps = new Map();
	for (const t of trials) {
		if (!exps.has(t.experiment_id)) exps.set(t.experiment_id, (await api(`/experiments/${t.experiment_id}`, { signal: ctx.signal })).experiment);
	}
	const first = exps.get(trials[0].experiment_id);
	const metricName = first.searcher_metric;
	const smaller = !(first.config && first.config.searcher && first.config.searcher.smaller_is_better === false);
	const back = el('p', {}, ...[...exps.keys()].map((e) => el('a', { href: `#/experiments/${e}?tab=trials`, text: `Back to experiment ${e}` })));

	const head = el('tr', {}, el('th', { scope: 'col', text: '' }), ...trials.map((t) =>
		el('th', { scope: 'col', class: 'num', dataset: { trial: t.id } }, el('a', { href: `#/trials/${t.id}`, text: `Trial ${t.id}` }))));
	const hpBody = el('tbody');
	const hpTable = el('table', { id: 'compare-hparams', class: 'compare' },
		el('caption', { class: 'sr-only', text: 'Hyperparameters of the compared trials' }), el('thead', {}, head), hpBody);
	const mBody = el('tbody');
	const mTable = el('table', { id: 'compare-metrics', class: 'compare' },
		el('caption', { class: 'sr-only', text: 'Validation metrics of the compared trials' }), el('thead', {}, head.cloneNode(true)), mBody);
	const grid = el('div', { class: 'metric-grid', id: 'compare-charts' });
	const tbError = el('div');
	const tb = el('button', { type: 'button', id: 'compare-tensorboard', text: 'Launch TensorBoard', onclick: async () => {
		try {
			const r = await api('/tasks', { method: 'POST', body: { kind: 'tensorboard', trial_ids: ids } });
			location.hash = `#/tasks/${String(r.task.id ?? r.task.task_id).replace(/^task-/, '')}`;
		} catch (e) {
			tbError.replaceChildren(errorBox(e));
		}
	} });
	ctx.main.append(back, el('div', { class: 'actions' }, tb), tbError,
		el('section', { 'aria-labelledby': 'h-cmp-hp' }, el('h2', { id: 'h-cmp-hp', text: 'Hyperparameters' }),
			el('p', { class: 'note', text: 'Rows marked ≠ differ between the trials.' }), tableWrap('Hyperparameters', hpTable)),
		el('section', { 'aria-labelledby': 'h-cmp-m' }, el('h2', { id: 'h-cmp-m', text: 'Validation metrics (latest / best)' }), tableWrap('Validation metrics', mTable)),
		el('section', { 'aria-labelledby': 'h-cmp-c' }, el('h2', { id: 'h-cmp-c', text: 'Learning curves' }), grid));

	function drawHp() {
		const hps = trials.map((t) => flat(t.hparams));
		const names = [...new Set(hps.flatMap((h) => Object.keys(h)))].sort();
		const rows = [
			['State', trials.map((t) => stateBadge(t.state)), false],
			['Steps', trials.map((t) => String(t.steps_completed)), false],
			[`Best ${metricName || 'metric'}`, trials.map((t) => fmtNum(t.best_metric)), false],
			...names.map((n) => {
				const vals = hps.map((h) => JSON.stringify(h[n]));
				return [n, hps.map((h) => hparamText(h[n])), new Set(vals).size > 1];
			}),
		];
		hpBody.replaceChildren(...rows.map(([name, cells, differs]) => el('tr', { class: differs ? 'differs' : undefined, dataset: { hp: name } },
			el('th', { scope: 'row' }, name, differs ? el('span', { class: 'badge', title: 'differs', text: ' ≠' }) : ''),
			...cells.map((c) => el('td', { class: 'num' }, c)))));
	}

	const series = new Map(trials.map((t) => [t.id, new TrialSeries(t.id)]));
	function drawMetrics() {
		const byKey = new Map();
		trials.forEach((t, i) => {
			for (const [key, s] of series.get(t.id).series) {
				const points = s.steps.map((x, j) => ({ x, y: s.values[j] })).filter((p) => typeof p.y === 'number');
				if (!points.length) continue;
				if (!byKey.has(key)) byKey.set(key, { key, group: s.group, name: s.name, lines: [], byTrial: new Map() });
				byKey.get(key).lines.push({ label: `Trial ${t.id}`, trialId: t.id, colorIndex: i * 3, points });
				byKey.get(key).byTrial.set(t.id, points.map((p) => p.y));
			}
		});
		const rank = (m) => (m.name === metricName ? 0 : m.group === 'validation' ? 1 : 2);
		const metrics = [...byKey.values()].sort((a, b) => rank(a) - rank(b) || a.key.localeCompare(b.key));
		const val = metrics.filter((m) => m.group === 'validation');
		mBody.replaceChildren(...(val.length ? val.map((m) => el('tr', { dataset: { metric: m.name } },
			el('th', { scope: 'row', text: m.name }),
			...trials.map((t) => {
				const ys = m.byTrial.get(t.id);
				if (!ys) return el('td', { class: 'num', text: '–' });
				const better = m.name !== metricName || smaller ? Math.min(...ys) : Math.max(...ys);
				return el('td', { class: 'num', text: `${fmtNum(ys[ys.length - 1])} / ${fmtNum(better)}` });
			}))) : [el('tr', {}, el('td', { colspan: String(trials.length + 1), class: 'muted', text: 'No validation metrics yet.' }))]));
		metricGrid(grid, metrics, { log: false, smoothing: 0, xTitle: 'batches', onOpen: (tid) => { location.hash = `#/trials/${tid}`; } });
	}

	let firstPoll = true;
	await ctx.every(POLL_MS, async () => {
		if (!firstPoll && trials.every((t) => TERMINAL.includes(t.state))) return;
		if (!firstPoll) trials = (await Promise.all(ids.map((t) => api(`/trials/${t}`, { signal: ctx.signal })))).map((r) => r.trial);
		const changed = await Promise.all([...series.values()].map((s) => s.update(ctx.signal)));
		if (!ctx.alive) return;
		drawHp();
		if (firstPoll || changed.some(Boolean)) drawMetrics();
		firstPoll = false;
		ctx.main.dataset.loaded = String(Date.now());
	});
}
