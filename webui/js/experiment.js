// SPDX-License-Identifier: GPL-2.0-or-later
// Experiment page: summary, owner actions (pause, activate, kill, archive)
// behind a confirmation, learning curves of all trials for a metric chosen
// from a menu, hyperparameter views (parallel coordinates and one scatter per
// hyperparameter against the searcher metric) and a sortable trials table.
// Metrics of a trial are fetched again only when its step count changes.
import { api, trialMetrics } from './api.js';
import { curves, parallel, scatter } from './charts.js';
import { announce, confirmAction, el, errorBox, fmtNum, fmtTime, hparamText, keepFocus, stateBadge, tableWrap } from './util.js';
import { metaSection } from './expmeta.js';

const POLL_MS = 3000;
const TERMINAL = ['COMPLETED', 'CANCELED', 'ERROR'];

function summaryItem(name, value, id) {
	return el('div', {}, el('dt', { text: name }), el('dd', { id }, value));
}

function canvasBox(id, label, small) {
	return el('div', { class: 'chart-box' + (small ? ' small' : '') },
		el('canvas', { id, role: 'img', 'aria-label': label }, label));
}

export async function render(ctx, idText) {
	const id = Number(idText);
	const me = ctx.me || {};
	const users = await api('/users', { signal: ctx.signal }).then((r) => r.users).catch(() => []);
	const names = new Map(users.map((u) => [u.id, u.username]));
	let exp = (await api(`/experiments/${id}`, { signal: ctx.signal })).experiment;
	const hpConf = (exp.config && exp.config.hyperparameters) || {};
	const hpNames = Object.keys(hpConf).filter((k) => hpConf[k] && hpConf[k].type !== 'const').sort();
	const canAct = !!me.admin || me.id === exp.owner_id;

	const title = el('h1', { id: 'exp-title', text: `Experiment ${id}: ${exp.name}` });
	const summary = el('dl', { class: 'summary', id: 'exp-summary' });
	const errSlot = el('div');
	const buttons = {
		pause: el('button', { type: 'button', id: 'act-pause', text: 'Pause' }),
		activate: el('button', { type: 'button', id: 'act-activate', class: 'primary', text: 'Activate' }),
		kill: el('button', { type: 'button', id: 'act-kill', class: 'danger', text: 'Kill' }),
		archive: el('button', { type: 'button', id: 'act-archive', text: 'Archive' }),
	};
	const actions = el('div', { class: 'actions', role: 'group', 'aria-label': 'Experiment actions' }, Object.values(buttons));
	const ownerNote = el('p', { class: 'note', id: 'owner-note' });

	const metricSel = el('select', { id: 'metric-select' });
	const curvesCanvas = canvasBox('curves-chart', 'Learning curves of every trial');
	const parCanvas = canvasBox('hp-parallel', 'Parallel coordinates: hyperparameters and metric');
	const scatterBoxes = hpNames.map((h) => canvasBox(`hp-scatter-${h}`, `Metric against ${h}`, true));
	const trialsBody = el('tbody');
	const trialsHead = el('tr');
	const trialsTable = el('table', { id: 'trials-table' },
		el('caption', { class: 'sr-only', text: 'Trials' }), el('thead', {}, trialsHead), trialsBody);

	ctx.main.append(title, summary, actions, ownerNote, errSlot,
		el('section', { 'aria-labelledby': 'h-curves' },
			el('h2', { id: 'h-curves', text: 'Learning curves' }),
			el('div', { class: 'controls' }, el('label', { for: 'metric-select' }, 'Metric', metricSel)),
			curvesCanvas),
		el('section', { 'aria-labelledby': 'h-hp' },
			el('h2', { id: 'h-hp', text: 'Hyperparameters' }),
			el('p', { class: 'note', text: `Each line is a trial; the last axis is its best ${exp.searcher_metric || 'metric'}. Colors match the learning curves.` }),
			parCanvas,
			el('h3', { class: 'sr-only', text: 'Scatter plots' }),
			el('div', { class: 'scatters' }, scatterBoxes)),
		el('section', { 'aria-labelledby': 'h-trials' },
			el('h2', { id: 'h-trials', text: 'Trials' }),
			tableWrap('Trials table', trialsTable)));
	ctx.main.append(metaSection(ctx, id, exp));

	// ---- actions
	const acts = {
		pause: ['pause', 'Pause this experiment? Running trials stop after saving a checkpoint.'],
		activate: ['activate', 'Activate this experiment? Its trials are scheduled again.'],
		kill: ['kill', 'Kill this experiment? Running trials are stopped at once; this cannot be undone.'],
	};
	for (const [k, [path, text]] of Object.entries(acts)) {
		buttons[k].addEventListener('click', () => act(path, text, buttons[k].textContent));
	}
	buttons.archive.addEventListener('click', () => {
		const un = exp.archived;
		act(un ? 'unarchive' : 'archive', un ? 'Unarchive this experiment?' : 'Archive this experiment? It is hidden from the list by default.',
			buttons.archive.textContent);
	});
	async function act(path, text, label) {
		if (!(await confirmAction(text, label))) return;
		try {
			exp = (await api(`/experiments/${id}/${path}`, { method: 'POST' })).experiment;
			errSlot.replaceChildren();
			announce(`Experiment ${id}: ${path} done, state ${exp.state}`);
			showExp();
		} catch (e) {
			errSlot.replaceChildren(errorBox(e));
		}
	}

	function showExp() {
		summary.replaceChildren(
			summaryItem('State', stateBadge(exp.state), 'exp-state'),
			summaryItem('Progress', `${Math.round((exp.progress || 0) * 100)}%`),
			summaryItem('Trials', `${exp.trials_completed} done, ${exp.trials_running} running, ${exp.trials_queued} queued`),
			summaryItem('Best ' + (exp.searcher_metric || 'metric'), fmtNum(exp.best_metric)),
			summaryItem('Searcher', (exp.config && exp.config.searcher && exp.config.searcher.name) || '–'),
			summaryItem('Owner', names.get(exp.owner_id) || `user ${exp.owner_id}`, 'exp-owner'),
			summaryItem('Labels', (exp.labels || []).join(', ') || '–'),
			summaryItem('Created', fmtTime(exp.created_at)),
			summaryItem('Archived', exp.archived ? 'yes' : 'no'));
		const terminal = TERMINAL.includes(exp.state);
		const st = {
			pause: exp.state === 'ACTIVE',
			activate: exp.state === 'PAUSED',
			kill: !terminal && !exp.state.startsWith('STOPPING_KILLED'),
			archive: terminal || exp.archived,
		};
		buttons.archive.textContent = exp.archived ? 'Unarchive' : 'Archive';
		for (const [k, b] of Object.entries(buttons)) b.disabled = !canAct || !st[k];
		ownerNote.textContent = canAct ? '' : `Only ${names.get(exp.owner_id) || 'its owner'} or an administrator can change this experiment.`;
	}

	// ---- trials, metrics, charts
	const cache = new Map(); // trial id -> {steps, state, rows}
	let trials = [];
	let sortKey = 'id';
	let sortDir = 1;
	const colorOf = (t) => t.trial_index;

	async function loadMetrics() {
		await Promise.all(trials.map(async (t) => {
			const c = cache.get(t.id);
			if (c && c.steps === t.steps_completed && c.state === t.state) return;
			const rows = await trialMetrics(t.id, ctx.signal);
			cache.set(t.id, { steps: t.steps_completed, state: t.state, rows });
		}));
	}

	function metricNames() {
		const s = new Set();
		for (const c of cache.values()) for (const r of c.rows) for (const k of Object.keys(r.metrics || {})) s.add(`${r.group}/${k}`);
		return [...s].sort();
	}

	function drawCurves() {
		const opts = metricNames();
		const want = metricSel.value || (opts.includes(`validation/${exp.searcher_metric}`) ? `validation/${exp.searcher_metric}` : opts[0]);
		metricSel.replaceChildren(...['training', 'validation'].map((g) => {
			const inGroup = opts.filter((o) => o.startsWith(g + '/'));
			return inGroup.length ? el('optgroup', { label: g }, inGroup.map((o) => el('option', { value: o, text: o.slice(g.length + 1) + ` (${g})`, selected: o === want }))) : null;
		}).filter(Boolean));
		if (!want) return;
		const [group, ...rest] = want.split('/');
		const name = rest.join('/');
		const series = [];
		for (const t of trials) {
			const c = cache.get(t.id);
			if (!c) continue;
			const pts = c.rows.filter((r) => r.group === group && typeof (r.metrics || {})[name] === 'number')
				.map((r) => ({ x: r.steps_completed, y: r.metrics[name] })).sort((a, b) => a.x - b.x);
			if (pts.length) series.push({ label: `Trial ${t.id}`, points: pts, colorIndex: colorOf(t) });
		}
		curves(curvesCanvas.firstChild, series, `${name} (${group})`);
	}

	function drawHp() {
		const done = trials.filter((t) => typeof t.best_metric === 'number');
		const axes = hpNames.map((h) => {
			const c = hpConf[h];
			if (c.type === 'categorical' || !['int', 'double', 'log'].includes(c.type)) {
				// The config's order first (every choice shows), then any other value seen.
				const cats = [...new Set([...(Array.isArray(c.vals) ? c.vals : []), ...trials.map((t) => t.hparams[h])]
					.map((v) => JSON.stringify(v)))];
				return { name: h, categories: cats };
			}
			return { name: h, log: c.type === 'log' };
		});
		const metricName = `best ${exp.searcher_metric || 'metric'}`;
		parallel(parCanvas.firstChild, [...axes, { name: metricName }],
			done.map((t) => ({ label: `Trial ${t.id}`, values: [...hpNames.map((h) => t.hparams[h]), t.best_metric], colorIndex: colorOf(t) })));
		hpNames.forEach((h, j) => {
			scatter(scatterBoxes[j].firstChild, h, metricName,
				done.map((t) => ({ x: t.hparams[h], y: t.best_metric, label: `Trial ${t.id}`, colorIndex: colorOf(t) })),
				axes[j].log, axes[j].categories, hpConf[h].type === 'int');
		});
	}

	const columns = [
		['id', 'Trial', (t) => el('a', { href: `#/trials/${t.id}`, text: String(t.id) }), true],
		['state', 'State', (t) => stateBadge(t.state)],
		['steps_completed', 'Steps', (t) => String(t.steps_completed), true],
		['restarts', 'Restarts', (t) => String(t.restarts), true],
		['best_metric', `Best ${exp.searcher_metric || 'metric'}`, (t) => fmtNum(t.best_metric), true],
		...hpNames.map((h) => ['hp:' + h, h, (t) => hparamText(t.hparams[h]), true]),
	];
	const keyOf = (t, k) => (k.startsWith('hp:') ? t.hparams[k.slice(3)] : t[k]);

	function drawTable() {
		keepFocus(trialsTable, drawTableNow);
	}

	function drawTableNow() {
		trialsHead.replaceChildren(...columns.map(([k, label, , num]) => {
			const sorted = sortKey === k;
			return el('th', { scope: 'col', class: num ? 'num' : undefined, 'aria-sort': sorted ? (sortDir > 0 ? 'ascending' : 'descending') : 'none' },
				el('button', {
					type: 'button', dataset: { sort: k }, 'aria-label': `Sort by ${label}`,
					onclick: () => {
						sortDir = sortKey === k ? -sortDir : 1;
						sortKey = k;
						drawTable();
						trialsHead.querySelector(`[data-sort="${CSS.escape(k)}"]`).focus();
					},
				}, label, sorted ? (sortDir > 0 ? ' ▲' : ' ▼') : ''));
		}));
		const rows = [...trials].sort((a, b) => {
			const x = keyOf(a, sortKey), y = keyOf(b, sortKey);
			if (x === y) return a.id - b.id;
			if (x === null || x === undefined) return 1;
			if (y === null || y === undefined) return -1;
			return (x < y ? -1 : 1) * sortDir;
		});
		trialsBody.replaceChildren(...rows.map((t) => el('tr', { dataset: { trial: t.id } },
			columns.map(([, , f, num]) => el('td', { class: num ? 'num' : undefined }, f(t))))));
	}

	metricSel.addEventListener('change', drawCurves);
	showExp();
	await ctx.every(POLL_MS, async () => {
		const [e, tr] = await Promise.all([
			api(`/experiments/${id}`, { signal: ctx.signal }),
			api(`/experiments/${id}/trials`, { signal: ctx.signal }),
		]);
		exp = e.experiment;
		trials = tr.trials.sort((a, b) => a.id - b.id);
		showExp();
		drawTable();
		await loadMetrics();
		if (!ctx.alive) return;
		drawCurves();
		drawHp();
		ctx.main.dataset.loaded = String(Date.now());
	});
}
