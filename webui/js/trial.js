// SPDX-License-Identifier: GPL-2.0-or-later
// Trial page: summary, hyperparameters, one chart per metric (new rows only,
// downsampled by the master),
// checkpoints (steps, size, the validation metrics at that step) and logs
// that open at their end (logs?tail=), page back on request (before=) and
// follow live through the API's long poll (logs?follow=1); each line shows
// its time and rank, filtered by rank and stream, searched (over the lines
// held, all of them after "Load all earlier lines") and downloaded whole
// (logs/download).
import { api, getCached, TrialSeries } from './api.js';
import { metricGrid } from './charts.js';
import { el, endText, fmtBytes, fmtNum, fmtTime, hparamText, progressView, stateBadge, tableWrap } from './util.js';

const POLL_MS = 3000;
const MAX_LOG_LINES = 5000;
const LOG_CAP = 200000; // "Load all earlier lines" stops here
const LOG_PAGE = 10000; // lines a request of it asks for (the API's maximum)

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
	const allEarlier = el('button', { type: 'button', id: 'logs-all', text: 'Load all earlier lines', hidden: true });
	const rankSel = el('select', { id: 'logs-rank' }, el('option', { value: '', text: 'All' }));
	const streamSel = el('select', { id: 'logs-stream' },
		...[['', 'All'], ['stdout', 'stdout'], ['stderr', 'stderr']].map(([v, t]) => el('option', { value: v, text: t })));
	const search = el('input', { type: 'search', id: 'logs-search', autocomplete: 'off' });
	const prevMatch = el('button', { type: 'button', id: 'logs-prev', text: 'Previous match', disabled: true });
	const nextMatch = el('button', { type: 'button', id: 'logs-next', text: 'Next match', disabled: true });
	const logCount = el('span', { class: 'muted', id: 'logs-count', role: 'status' });
	const scope = el('span', { class: 'muted', id: 'logs-scope' });
	const download = el('a', { href: `/api/v1/trials/${id}/logs/download`, download: `trial-${id}.log`, id: 'logs-download', text: 'Download the whole log' });

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
			el('div', { class: 'controls' }, el('label', { class: 'inline', for: 'logs-follow' }, follow, 'Scroll to new lines'), logState, earlier, download),
			el('div', { class: 'controls logs-filters' },
				el('label', { for: 'logs-rank' }, 'Rank', rankSel), el('label', { for: 'logs-stream' }, 'Stream', streamSel),
				el('label', { for: 'logs-search' }, 'Search', search), prevMatch, nextMatch, logCount),
			el('p', { class: 'logs-scope' }, scope, ' ', allEarlier),
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

	// Logs: one span per line (time, rank, text), its row kept on the element.
	const pad = (n) => String(n).padStart(2, '0');
	function shortTime(ts) {
		const d = new Date(ts);
		if (Number.isNaN(d.getTime())) return ts;
		return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
	}
	const ranks = new Set();
	function seeRank(r) {
		if (ranks.has(r)) return;
		ranks.add(r);
		const opts = [...rankSel.options].slice(1);
		const after = opts.find((o) => Number(o.value) > r);
		rankSel.insertBefore(el('option', { value: String(r), text: String(r) }), after || null);
	}
	let query = ''; // the search, lower case
	function lineEl(l) {
		seeRank(l.rank);
		const s = el('span', { class: l.stream === 'stderr' ? 'log-line stderr' : 'log-line', dataset: { line: l.id, rank: l.rank, stream: l.stream } },
			el('time', { class: 'log-ts', datetime: l.timestamp, title: l.timestamp, text: shortTime(l.timestamp) }), ' ',
			el('span', { class: 'log-rank', text: `[${l.rank}]` }), ' ',
			el('span', { class: 'log-text', text: l.line }), '\n');
		s.logRow = l;
		showLine(s);
		return s;
	}
	// Whether a line passes the rank, stream and search filters; marks the match.
	function showLine(s) {
		const l = s.logRow;
		const text = s.querySelector('.log-text');
		const at = query ? l.line.toLowerCase().indexOf(query) : -1;
		const pass = (rankSel.value === '' || Number(rankSel.value) === l.rank) &&
			(streamSel.value === '' || streamSel.value === l.stream) && (!query || at >= 0);
		s.hidden = !pass;
		s.classList.toggle('match', pass && at >= 0);
		if (pass && at >= 0) {
			text.replaceChildren(l.line.slice(0, at), el('mark', { text: l.line.slice(at, at + query.length) }), l.line.slice(at + query.length));
		} else if (text.childNodes.length !== 1 || text.firstChild.nodeType !== Node.TEXT_NODE) {
			text.textContent = l.line;
		}
		return pass;
	}
	let current = -1; // the match scrolled to, an index into the shown matches
	let capNote = ''; // said once "Load all earlier lines" stopped at LOG_CAP
	function showCount() {
		const all = logs.children.length;
		const shown = all - logs.querySelectorAll('.log-line[hidden]').length;
		logCount.textContent = `${shown} of ${all} lines shown`;
		const found = query ? logs.querySelectorAll('.log-line.match').length : 0;
		prevMatch.disabled = nextMatch.disabled = !found;
		if (!query) {
			scope.textContent = earlier.hidden ? 'All lines of the trial are held.' : `The ${all} newest lines are held; older ones are not.`;
		} else {
			scope.textContent = `${found} matches in the ${all} lines held` +
				(earlier.hidden ? ' (the whole log).' : '; older lines are not searched until loaded.');
		}
		if (capNote && !earlier.hidden) scope.textContent += ` ${capNote}`;
		allEarlier.hidden = earlier.hidden;
	}
	function applyFilters() {
		for (const s of logs.children) showLine(s);
		current = -1;
		logs.querySelector('.log-line.current')?.classList.remove('current');
		showCount();
	}
	function goMatch(step) {
		const found = [...logs.querySelectorAll('.log-line.match')];
		if (!found.length) return;
		logs.querySelector('.log-line.current')?.classList.remove('current');
		current = ((current < 0 && step < 0 ? 0 : current + step) + found.length) % found.length;
		const m = found[current];
		m.classList.add('current');
		logs.scrollTop += m.getBoundingClientRect().top - logs.getBoundingClientRect().top - logs.clientHeight / 2;
		logCount.textContent = `match ${current + 1} of ${found.length}`;
	}
	rankSel.addEventListener('change', applyFilters);
	streamSel.addEventListener('change', applyFilters);
	let searchTimer = 0;
	search.addEventListener('input', () => {
		clearTimeout(searchTimer);
		searchTimer = setTimeout(() => {
			query = search.value.toLowerCase();
			applyFilters();
		}, 150);
	});
	search.addEventListener('keydown', (e) => {
		if (e.key === 'Enter') goMatch(e.shiftKey ? -1 : 1);
	});
	prevMatch.addEventListener('click', () => goMatch(-1));
	nextMatch.addEventListener('click', () => goMatch(1));
	let firstId = 0; // the oldest line shown
	let keep = MAX_LOG_LINES; // lines held while following (more once earlier ones are loaded)

	// Lines before the oldest one shown, limit at a time, above it (the view stays put); false when none are older.
	async function loadEarlier(limit) {
		const r = await api(`/trials/${id}/logs?before=${firstId}&limit=${limit}`, { signal: ctx.signal });
		const h = logs.scrollHeight;
		logs.prepend(...r.logs.map(lineEl));
		logs.scrollTop += logs.scrollHeight - h;
		if (r.logs.length) firstId = r.logs[0].id;
		earlier.hidden = !r.more_before;
		keep = Math.min(LOG_CAP, Math.max(keep, logs.children.length));
		return r.more_before;
	}

	// Earlier lines, 1000 at a time.
	earlier.addEventListener('click', async () => {
		earlier.disabled = true;
		try {
			await loadEarlier(1000);
		} catch (e) {
			if (e.name !== 'AbortError') logState.textContent = `earlier lines: ${e.message}`;
		} finally {
			earlier.disabled = false;
			applyFilters();
		}
	});
	// Every earlier line, in pages, up to LOG_CAP lines held.
	allEarlier.addEventListener('click', async () => {
		allEarlier.disabled = earlier.disabled = true;
		let capped = false;
		try {
			while (ctx.alive) {
				const room = LOG_CAP - logs.children.length;
				if (room <= 0) {
					capped = true;
					break;
				}
				logState.textContent = `loading earlier lines (${logs.children.length} held)…`;
				if (!(await loadEarlier(Math.min(LOG_PAGE, room)))) break;
			}
			capNote = capped ? `Loading stopped at the cap of ${LOG_CAP} lines held; download the log for the rest.` : '';
			logState.textContent = capped ? 'earlier lines: stopped at the cap' : 'all earlier lines loaded';
		} catch (e) {
			if (e.name !== 'AbortError') logState.textContent = `earlier lines: ${e.message}`;
		} finally {
			allEarlier.disabled = earlier.disabled = false;
			applyFilters();
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
			if (logs.childNodes.length > keep) {
				while (logs.childNodes.length > keep) logs.firstChild.remove();
				firstId = Number(logs.firstChild.dataset.line);
				earlier.hidden = false;
			}
			after = r.next_after;
			// New lines usually come with new metrics: look now rather than at the next poll.
			if (r.logs.length) refresh().catch(() => {});
			if (r.logs.length && follow.checked && atEnd) logs.scrollTop = logs.scrollHeight;
			showCount();
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
