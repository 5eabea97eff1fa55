// SPDX-License-Identifier: GPL-2.0-or-later
// Trial page: summary, hyperparameters, one chart per metric (new rows only,
// downsampled by the master),
// checkpoints (steps, size, the validation metrics at that step) and logs
// that open at their end (logs?tail=), page back on request (before=) and
// follow live through the API's long poll (logs?follow=1).
import { api, getCached, TrialSeries } from './api.js';
import { metricGrid } from './charts.js';
import { el, endText, fmtBytes, fmtNum, fmtTime, hparamText, progressView, stateBadge, tableWrap } from './util.js';

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
	const grid = el('div', { class: 'metric-grid', id: 'trial-charts' });
	const ySel = el('select', { id: 'chart-y' },
		el('option', { value: 'linear', text: 'linear' }), el('option', { value: 'log', text: 'log' }));
	const logs = el('pre', { class: 'logs', id: 'trial-logs', tabindex: '0', 'aria-label': 'Trial logs', 'aria-live': 'off' });
	const follow = el('input', { type: 'checkbox', id: 'logs-follow', checked: true });
	const logState = el('span', { class: 'muted', id: 'logs-state' });
	const earlier = el('button', { type: 'button', id: 'logs-earlier', text: 'Load earlier lines', hidden: true });

	ctx.main.append(
		el('p', {}, el('a', { href: `#/experiments/${trial.experiment_id}`, text: `← Experiment ${trial.experiment_id}` })),
		el('h1', { text: `Trial ${id}` }), summary,
		el('section', { 'aria-labelledby': 'h-metrics' }, el('h2', { id: 'h-metrics', text: 'Metrics' }),
			el('div', { class: 'controls chart-controls' }, el('label', { for: 'chart-y' }, 'y scale', ySel)),
			grid),
		el('div', { class: 'side' },
			el('section', { 'aria-labelledby': 'h-hparams' }, el('h2', { id: 'h-hparams', text: 'Hyperparameters' }),
				tableWrap('Hyperparameters', el('table', { id: 'trial-hparams' },
					el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Name' }), el('th', { scope: 'col', text: 'Value' }))), hpBody))),
			el('section', { 'aria-labelledby': 'h-ckpts' }, el('h2', { id: 'h-ckpts', text: 'Checkpoints' }),
				tableWrap('Checkpoints', el('table', { id: 'trial-checkpoints' },
					el('thead', {}, el('tr', {}, ['Steps', 'UUID', 'State', 'Size', 'Validation metrics'].map((h) => el('th', { scope: 'col', text: h })))),
					ckBody)))),
		el('section', { 'aria-labelledby': 'h-logs' }, el('h2', { id: 'h-logs', text: 'Logs' }),
			el('div', { class: 'controls' }, el('label', { class: 'inline', for: 'logs-follow' }, follow, 'Scroll to new lines'), logState, earlier),
			logs));

	function showTrial() {
		summary.replaceChildren(
			summaryItem('State', stateBadge(trial.state), 'trial-state'),
			summaryItem('Experiment', el('a', { href: `#/experiments/${trial.experiment_id}`, text: String(trial.experiment_id) })),
			summaryItem('Steps completed', String(trial.steps_completed)),
			summaryItem('Progress', progressView(trial.progress, trial.state, 'trial progress'), 'trial-progress'),
			summaryItem('Ended because', endText(trial) || '–', 'trial-end'),
			summaryItem('Best metric', fmtNum(trial.best_metric)),
			summaryItem('Restarts', String(trial.restarts)),
			summaryItem('Started', fmtTime(trial.created_at)),
			summaryItem('Ended', fmtTime(trial.ended_at)));
		hpBody.replaceChildren(...Object.entries(trial.hparams || {}).map(([k, v]) =>
			el('tr', {}, el('th', { scope: 'row', text: k }), el('td', { text: hparamText(v) }))));
	}

	let lastSteps = -1;
	let lastState = '';
	const ts = new TrialSeries(id);
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

	function drawCharts() {
		const metrics = [...ts.series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, s], i) => ({
			key, group: s.group, name: s.name,
			lines: [{ label: s.name, trialId: id, colorIndex: i, points: s.steps.map((x, j) => ({ x, y: s.values[j] })) }],
		}));
		metricGrid(grid, metrics, { log: ySel.value === 'log', smoothing: 0, xTitle: 'batches' });
		// When the charts were first drawn, in ms since navigation start (the render bench reads it).
		if (metrics.length && !grid.dataset.drawn) grid.dataset.drawn = String(Math.round(performance.now()));
	}
	ySel.addEventListener('change', drawCharts);

	async function refreshNow() {
		const r = await getCached(`/trials/${id}`, ctx.signal);
		if (!r.changed && lastSteps >= 0) return;
		trial = r.data.trial;
		showTrial();
		if (trial.steps_completed === lastSteps && trial.state === lastState) return;
		lastSteps = trial.steps_completed;
		lastState = trial.state;
		const [, ck] = await Promise.all([ts.update(ctx.signal), api(`/trials/${id}/checkpoints`, { signal: ctx.signal })]);
		drawCharts();
		const valAt = new Map();
		for (const s of ts.series.values()) {
			if (s.group !== 'validation') continue;
			s.steps.forEach((st, j) => {
				if (!valAt.has(st)) valAt.set(st, {});
				valAt.get(st)[s.name] = s.values[j];
			});
		}
		ckBody.replaceChildren(...ck.checkpoints.sort((a, b) => b.steps_completed - a.steps_completed).map((c) => el('tr', {},
			el('td', { class: 'num', text: String(c.steps_completed) }),
			el('td', {}, el('code', { text: c.uuid })),
			el('td', {}, stateBadge(c.state)),
			el('td', { class: 'num', text: fmtBytes((c.files || []).reduce((s, f) => s + (f.size || 0), 0)) }),
			el('td', { text: Object.entries(valAt.get(c.steps_completed) || {}).map(([k, v]) => `${k}=${fmtNum(v)}`).join(', ') || '–' }))));
		if (!ck.checkpoints.length) ckBody.append(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: 'No checkpoints yet.' })));
	}

	// Logs: long polls one after another until the page is left.
	const lineEl = (l) => el('span', { class: l.stream === 'stderr' ? 'stderr' : undefined, dataset: { line: l.id } },
		`[${l.rank}] ${l.line}\n`);
	let firstId = 0; // the oldest line shown

	// Earlier lines, 1000 at a time, above the ones shown (the view stays put).
	earlier.addEventListener('click', async () => {
		earlier.disabled = true;
		try {
			const r = await api(`/trials/${id}/logs?before=${firstId}&limit=1000`, { signal: ctx.signal });
			const h = logs.scrollHeight;
			logs.prepend(...r.logs.map(lineEl));
			logs.scrollTop += logs.scrollHeight - h;
			if (r.logs.length) firstId = r.logs[0].id;
			earlier.hidden = !r.more_before;
		} catch (e) {
			if (e.name !== 'AbortError') logState.textContent = `earlier lines: ${e.message}`;
		} finally {
			earlier.disabled = false;
		}
	});

	// Logs: the last 1000 lines first (a long log opens at its end), then
	// long polls one after another until the page is left.
	async function followLogs() {
		let after = 0;
		let n = 0;
		let opened = false;
		while (ctx.alive) {
			await ctx.whenVisible(); // no long polls from a hidden tab
			if (!ctx.alive) return;
			let r;
			try {
				r = await api(opened ? `/trials/${id}/logs?after=${after}&limit=1000&follow=1` : `/trials/${id}/logs?tail=1000`,
					{ signal: ctx.signal });
			} catch (e) {
				if (e.name === 'AbortError' || !ctx.alive) return;
				logState.textContent = `log stream interrupted (${e.message}); retrying`;
				await new Promise((res) => setTimeout(res, 2000));
				continue;
			}
			const atEnd = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
			logs.append(...r.logs.map(lineEl));
			n += r.logs.length;
			if (!opened) {
				opened = true;
				earlier.hidden = !r.more_before;
				if (r.logs.length) firstId = r.logs[0].id;
			}
			if (logs.childNodes.length > MAX_LOG_LINES) {
				while (logs.childNodes.length > MAX_LOG_LINES) logs.firstChild.remove();
				firstId = Number(logs.firstChild.dataset.line);
				earlier.hidden = false;
			}
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
