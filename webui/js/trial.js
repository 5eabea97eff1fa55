// SPDX-License-Identifier: GPL-2.0-or-later
// Trial page: summary, hyperparameters, one chart per metric group,
// checkpoints (steps, size, the validation metrics at that step) and logs
// that follow live through the API's long poll (logs?follow=1).
import { api, trialMetrics } from './api.js';
import { curves } from './charts.js';
import { el, fmtBytes, fmtNum, fmtTime, hparamText, stateBadge, tableWrap } from './util.js';

const POLL_MS = 3000;
const MAX_LOG_LINES = 5000;

function summaryItem(name, value, id) {
	return el('div', {}, el('dt', { text: name }), el('dd', { id }, value));
}

export async function render(ctx, idText) {
	const id = Number(idText);
	let trial = (await api(`/trials/${id}`, { signal: ctx.signal })).trial;
	const summary = el('dl', { class: 'summary', id: 'trial-summary' });
	const hpBody = el('tbody');
	const ckBody = el('tbody');
	const charts = {
		training: el('canvas', { id: 'trial-chart-training', role: 'img', 'aria-label': 'Training metrics' }, 'Training metrics'),
		validation: el('canvas', { id: 'trial-chart-validation', role: 'img', 'aria-label': 'Validation metrics' }, 'Validation metrics'),
	};
	const logs = el('pre', { class: 'logs', id: 'trial-logs', tabindex: '0', 'aria-label': 'Trial logs', 'aria-live': 'off' });
	const follow = el('input', { type: 'checkbox', id: 'logs-follow', checked: true });
	const logState = el('span', { class: 'muted', id: 'logs-state' });

	ctx.main.append(
		el('p', {}, el('a', { href: `#/experiments/${trial.experiment_id}`, text: `← Experiment ${trial.experiment_id}` })),
		el('h1', { text: `Trial ${id}` }), summary,
		el('section', { 'aria-labelledby': 'h-metrics' }, el('h2', { id: 'h-metrics', text: 'Metrics' }),
			el('div', { class: 'grid2' },
				el('div', { class: 'chart-box' }, charts.training),
				el('div', { class: 'chart-box' }, charts.validation))),
		el('div', { class: 'side' },
			el('section', { 'aria-labelledby': 'h-hparams' }, el('h2', { id: 'h-hparams', text: 'Hyperparameters' }),
				tableWrap('Hyperparameters', el('table', { id: 'trial-hparams' },
					el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Name' }), el('th', { scope: 'col', text: 'Value' }))), hpBody))),
			el('section', { 'aria-labelledby': 'h-ckpts' }, el('h2', { id: 'h-ckpts', text: 'Checkpoints' }),
				tableWrap('Checkpoints', el('table', { id: 'trial-checkpoints' },
					el('thead', {}, el('tr', {}, ['Steps', 'UUID', 'State', 'Size', 'Validation metrics'].map((h) => el('th', { scope: 'col', text: h })))),
					ckBody)))),
		el('section', { 'aria-labelledby': 'h-logs' }, el('h2', { id: 'h-logs', text: 'Logs' }),
			el('div', { class: 'controls' }, el('label', { class: 'inline', for: 'logs-follow' }, follow, 'Scroll to new lines'), logState),
			logs));

	function showTrial() {
		summary.replaceChildren(
			summaryItem('State', stateBadge(trial.state), 'trial-state'),
			summaryItem('Experiment', el('a', { href: `#/experiments/${trial.experiment_id}`, text: String(trial.experiment_id) })),
			summaryItem('Steps completed', String(trial.steps_completed)),
			summaryItem('Progress', `${Math.round((trial.progress || 0) * 100)}%`),
			summaryItem('Best metric', fmtNum(trial.best_metric)),
			summaryItem('Restarts', String(trial.restarts)),
			summaryItem('Started', fmtTime(trial.created_at)),
			summaryItem('Ended', fmtTime(trial.ended_at)));
		hpBody.replaceChildren(...Object.entries(trial.hparams || {}).map(([k, v]) =>
			el('tr', {}, el('th', { scope: 'row', text: k }), el('td', { text: hparamText(v) }))));
	}

	let lastSteps = -1;
	let lastState = '';
	let rows = [];
	let refreshing = false;
	async function refresh() {
		if (refreshing) return;
		refreshing = true;
		try {
			await refreshNow();
		} finally {
			refreshing = false;
		}
	}

	async function refreshNow() {
		trial = (await api(`/trials/${id}`, { signal: ctx.signal })).trial;
		showTrial();
		if (trial.steps_completed === lastSteps && trial.state === lastState) return;
		lastSteps = trial.steps_completed;
		lastState = trial.state;
		const [m, ck] = await Promise.all([trialMetrics(id, ctx.signal), api(`/trials/${id}/checkpoints`, { signal: ctx.signal })]);
		rows = m;
		for (const g of ['training', 'validation']) {
			const names = [...new Set(rows.filter((r) => r.group === g).flatMap((r) => Object.keys(r.metrics || {})))].sort();
			curves(charts[g], names.map((n, i) => ({
				label: n, colorIndex: i,
				points: rows.filter((r) => r.group === g && typeof r.metrics[n] === 'number').map((r) => ({ x: r.steps_completed, y: r.metrics[n] })),
			})), `${g} metrics`);
		}
		const valAt = new Map(rows.filter((r) => r.group === 'validation').map((r) => [r.steps_completed, r.metrics]));
		ckBody.replaceChildren(...ck.checkpoints.sort((a, b) => b.steps_completed - a.steps_completed).map((c) => el('tr', {},
			el('td', { class: 'num', text: String(c.steps_completed) }),
			el('td', {}, el('code', { text: c.uuid })),
			el('td', {}, stateBadge(c.state)),
			el('td', { class: 'num', text: fmtBytes((c.files || []).reduce((s, f) => s + (f.size || 0), 0)) }),
			el('td', { text: Object.entries(valAt.get(c.steps_completed) || {}).map(([k, v]) => `${k}=${fmtNum(v)}`).join(', ') || '–' }))));
		if (!ck.checkpoints.length) ckBody.append(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No checkpoints yet.' })));
	}

	// Logs: long polls one after another until the page is left.
	async function followLogs() {
		let after = 0;
		let n = 0;
		while (ctx.alive) {
			let r;
			try {
				r = await api(`/trials/${id}/logs?after=${after}&limit=1000&follow=1`, { signal: ctx.signal });
			} catch (e) {
				if (e.name === 'AbortError' || !ctx.alive) return;
				logState.textContent = `log stream interrupted (${e.message}); retrying`;
				await new Promise((res) => setTimeout(res, 2000));
				continue;
			}
			const atEnd = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
			for (const l of r.logs) {
				logs.append(el('span', { class: l.stream === 'stderr' ? 'stderr' : undefined, dataset: { line: l.id } },
					`[${l.rank}] ${l.line}\n`));
				n++;
			}
			while (logs.childNodes.length > MAX_LOG_LINES) logs.firstChild.remove();
			after = r.next_after;
			// New lines usually come with new metrics: look now rather than at the next poll.
			if (r.logs.length) refresh().catch(() => {});
			if (r.logs.length && follow.checked && atEnd) logs.scrollTop = logs.scrollHeight;
			logState.textContent = r.trial_ended ? `${n} lines; the trial has ended` : `${n} lines; following`;
			if (r.trial_ended) {
				// Ended trials may still be restarted: look again slowly.
				await new Promise((res) => setTimeout(res, 5000));
			}
		}
	}
	followLogs();
	await ctx.every(POLL_MS, refresh);
}
