// SPDX-License-Identifier: GPL-2.0-or-later
// Experiment page: summary, owner actions (pause, activate, kill, archive)
// behind a confirmation, Fork and Continue dialogs, one chart per metric with
// every trial on it (x in batches, epochs or wall time; linear or log y; EMA
// smoothing; drag to zoom x), hyperparameter views (parallel coordinates and
// one scatter per hyperparameter against the searcher metric) and a sortable
// trials table that the parallel-coordinates brush filters. Polls carry ETags
// (an unchanged view is a 304), metrics come as new rows only (since),
// downsampled by the master, and charts are redrawn only when something changed.
import { api, getCached, TrialSeries } from './api.js';
import { clearBrush, metricGrid, parallel, scatter } from './charts.js';
import { heatmap } from './heatmap.js';
import { queuePanel } from './queue.js';
import { announce, confirmAction, el, endText, errorBox, fmtBytes, fmtNum, fmtTime, hparamText, keepFocus, progressView, stateBadge, tableWrap } from './util.js';
import { metaForm } from './expmeta.js';
import { notebookDialog } from './tasks.js';

const POLL_MS = 3000;
const TERMINAL = ['COMPLETED', 'CANCELED', 'ERROR'];

function summaryItem(name, value, id) {
	return el('div', {}, el('dt', { text: name }), el('dd', { id }, value));
}

function canvasBox(id, label, small) {
	return el('div', { class: 'chart-box' + (small ? ' small' : '') },
		el('canvas', { id, role: 'img', 'aria-label': label }, label));
}

// The page's view in the address (#/experiments/ID?tab=trials&tsort=...):
// tab, trials table (tsort, torder, tpage, tlimit) and checkpoints table
// (csort, corder, cpage, climit). Sorting and paging are the master's.
function viewOf(hash) {
	const i = hash.indexOf('?');
	const q = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
	const int = (k, d, lo, hi) => {
		const n = Number(q.get(k));
		return Number.isInteger(n) && n >= lo && n <= hi ? n : d;
	};
	return {
		tab: q.get('tab') || 'overview',
		tsort: q.get('tsort') || 'id', torder: q.get('torder') === 'desc' ? 'desc' : 'asc',
		tpage: int('tpage', 1, 1, 1e6), tlimit: int('tlimit', 25, 1, 500),
		csort: q.get('csort') || 'trial_id', corder: q.get('corder') === 'desc' ? 'desc' : 'asc',
		cpage: int('cpage', 1, 1, 1e6), climit: int('climit', 25, 1, 500),
	};
}

// Pager buttons and text for a table: {box, show(page, pages, total)}; onPage(n).
function pager(prefix, noun, onPage) {
	const prev = el('button', { type: 'button', id: `${prefix}-prev`, text: '‹ Previous' });
	const next = el('button', { type: 'button', id: `${prefix}-next`, text: 'Next ›' });
	const info = el('span', { id: `${prefix}-pageinfo`, 'aria-live': 'polite' });
	let page = 1;
	prev.addEventListener('click', () => onPage(page - 1));
	next.addEventListener('click', () => onPage(page + 1));
	return {
		box: el('div', { class: 'pager controls' }, prev, info, next),
		show(p, pages, total) {
			page = p;
			info.textContent = `Page ${p} of ${pages} (${total} ${noun})`;
			prev.disabled = p <= 1;
			next.disabled = p >= pages;
		},
	};
}

// Whether me may fork exp, as the master decides it (doc/collaboration.md):
// an administrator, anyone in the shared default workspace, else an editor or
// workspace-admin of its workspace. Roles through a Unix group cannot be told
// here: then the button stays on and the master's answer shows in the dialog.
async function forkAllowed(ctx, me, exp) {
	if (me.admin) return true;
	try {
		const p = (await api(`/projects/${exp.project_id}`, { signal: ctx.signal })).project;
		if (p.workspace_id === 1) return true;
		const r = await api(`/workspaces/${p.workspace_id}/roles`, { signal: ctx.signal });
		if ((r.roles || []).some((x) => x.gid !== undefined && x.gid !== null)) return true;
		return (r.roles || []).some((x) => me.uid !== undefined && x.uid === me.uid && ['editor', 'workspace-admin', 'workspace_admin'].includes(x.role));
	} catch (e) {
		if (e.name === 'AbortError') throw e;
		return true;
	}
}

export async function render(ctx, idText) {
	const id = Number(idText);
	const view = viewOf(location.hash);
	const me = ctx.me || {};
	const users = await api('/users', { signal: ctx.signal }).then((r) => r.users).catch(() => []);
	const names = new Map(users.map((u) => [u.id, u.username]));
	let exp = (await api(`/experiments/${id}`, { signal: ctx.signal })).experiment;
	const hpConf = (exp.config && exp.config.hyperparameters) || {};
	const hpNames = Object.keys(hpConf).filter((k) => hpConf[k] && hpConf[k].type !== 'const').sort();
	const canAct = !!me.admin || me.id === exp.owner_id;
	const mayFork = await forkAllowed(ctx, me, exp);

	const title = el('h1', { id: 'exp-title', text: `Experiment ${id}: ${exp.name}` });
	const summary = el('dl', { class: 'summary', id: 'exp-summary' });
	const errSlot = el('div');
	const buttons = {
		pause: el('button', { type: 'button', id: 'act-pause', text: 'Pause' }),
		activate: el('button', { type: 'button', id: 'act-activate', class: 'primary', text: 'Activate' }),
		kill: el('button', { type: 'button', id: 'act-kill', class: 'danger', text: 'Kill' }),
		archive: el('button', { type: 'button', id: 'act-archive', text: 'Archive' }),
		cancel: el('button', { type: 'button', id: 'act-cancel', text: 'Cancel' }),
		delete: el('button', { type: 'button', id: 'act-delete', class: 'danger', text: 'Delete' }),
	};
	// Fork and Continue make a new experiment: whoever may write the
	// experiment's project may (mayFork), not only its owner.
	const forkButtons = {
		fork: el('button', { type: 'button', id: 'act-fork', text: 'Fork…' }),
		continue: el('button', { type: 'button', id: 'act-continue', text: 'Continue…' }),
	};
	const forkNote = el('p', { class: 'note', id: 'fork-note' });
	const actions = el('div', { class: 'actions', role: 'group', 'aria-label': 'Experiment actions' }, Object.values(buttons));
	const forkActions = el('div', { class: 'tools', id: 'exp-fork-actions', role: 'group', 'aria-label': 'New experiment from this one' },
		Object.values(forkButtons));
	const ownerNote = el('p', { class: 'note', id: 'owner-note' });
	const whyBox = el('p', { class: 'error', id: 'exp-why', hidden: true });

	const xSel = el('select', { id: 'chart-x' },
		el('option', { value: 'batches', text: 'batches' }), el('option', { value: 'time', text: 'wall time (s)' }));
	const ySel = el('select', { id: 'chart-y' },
		el('option', { value: 'linear', text: 'linear' }), el('option', { value: 'log', text: 'log' }));
	const smooth = el('input', { id: 'chart-smooth', type: 'range', min: '0', max: '0.99', step: '0.01', value: '0' });
	const smoothOut = el('output', { for: 'chart-smooth', id: 'chart-smooth-value', text: '0' });
	const grid = el('div', { class: 'metric-grid', id: 'metric-charts' });
	const parCanvas = canvasBox('hp-parallel', 'Parallel coordinates: hyperparameters and metric');
	const scatterBoxes = hpNames.map((h) => canvasBox(`hp-scatter-${h}`, `Metric against ${h}`, true));
	const trialsBody = el('tbody');
	const trialsHead = el('tr');
	const trialsTable = el('table', { id: 'trials-table' },
		el('caption', { class: 'sr-only', text: 'Trials' }), el('thead', {}, trialsHead), trialsBody);

	const compareBtn = el('button', { type: 'button', id: 'compare-btn', class: 'primary', disabled: true, text: 'Compare selected' });
	// TensorBoard of the experiment or of the selected trials, and a notebook
	// named after the experiment: each opens the new task's page.
	async function launchTensorBoard(body) {
		try {
			const r = await api('/tasks', { method: 'POST', body: { kind: 'tensorboard', ...body } });
			location.hash = `#/tasks/${String(r.task.id ?? r.task.task_id).replace(/^task-/, '')}`;
		} catch (e) {
			if (e.name !== 'AbortError') errSlot.replaceChildren(errorBox(e));
		}
	}
	const taskActions = el('div', { class: 'tools', id: 'exp-task-actions', role: 'group', 'aria-label': 'Tools' },
		el('button', { type: 'button', id: 'act-tensorboard', text: 'Launch TensorBoard',
			onclick: () => launchTensorBoard({ experiment_ids: [id] }) }),
		el('button', { type: 'button', id: 'act-notebook', text: 'Open notebook',
			onclick: () => notebookDialog({ description: `Notebook for experiment ${id}: ${exp.name}` }) }));
	const tbSelBtn = el('button', { type: 'button', id: 'tensorboard-selected-btn', disabled: true, text: 'TensorBoard of selected',
		onclick: () => launchTensorBoard({ trial_ids: [...selected].sort((a, b) => a - b) }) });
	const compareNote = el('span', { class: 'note', id: 'compare-note', text: 'Select 2 or more trials to compare them.' });
	compareBtn.addEventListener('click', () => {
		location.hash = `#/compare?trials=${[...selected].sort((a, b) => a - b).join(',')}`;
	});
	function showSelected() {
		compareBtn.disabled = selected.size < 2;
		tbSelBtn.disabled = selected.size < 1;
		compareNote.textContent = selected.size ? `${selected.size} selected.` : 'Select 2 or more trials to compare them.';
	}
	// The parallel-coordinates brush: the ids of the trials it keeps (null: no brush).
	let brushIds = null;
	const filterCount = el('span', { id: 'trials-filter-text' });
	const filterLine = el('p', { class: 'note filter-line', id: 'trials-filter', hidden: true }, filterCount, ' — ',
		el('button', { type: 'button', id: 'trials-filter-clear', class: 'linklike', text: 'Clear',
			onclick: () => clearBrush(parCanvas.firstChild) }));
	const trialsPager = pager('trials', 'trials', (n) => {
		view.tpage = n;
		saveView();
		loadTablePage(true);
	});

	const queue = queuePanel(ctx, id);
	const hpSel = (sid, pick) => el('select', { id: sid, onchange: () => drawHeat() },
		hpNames.map((h, i) => el('option', { value: h, text: h, selected: i === pick })));
	const heatX = hpSel('heat-x', 0);
	const heatY = hpSel('heat-y', 1);
	const heatCanvas = el('canvas', { id: 'hp-heatmap', width: '640', height: '360', role: 'img', 'aria-label': 'Heat map' });
	const heatBox = el('div', { id: 'heat-box', hidden: hpNames.length < 2 },
		el('h3', { text: 'Heat map' }),
		el('div', { class: 'controls' }, el('label', { for: 'heat-x' }, 'x', heatX), el('label', { for: 'heat-y' }, 'y', heatY)),
		el('div', { class: 'chart-box' }, heatCanvas));
	const ckBody = el('tbody');
	const ckHead = el('tr');
	const configPre = el('pre', { id: 'exp-config', class: 'config', tabindex: '0' });
	const logsList = el('ul', { id: 'exp-logs' });
	const panels = {
		overview: el('div', { id: 'panel-overview', role: 'tabpanel', 'aria-labelledby': 'tab-overview' }),
		trials: el('div', { id: 'panel-trials', role: 'tabpanel', 'aria-labelledby': 'tab-trials' }),
		checkpoints: el('div', { id: 'panel-checkpoints', role: 'tabpanel', 'aria-labelledby': 'tab-checkpoints' },
			el('h2', { text: 'Checkpoints' }),
			tableWrap('Checkpoints', el('table', { id: 'exp-checkpoints' },
				el('caption', { class: 'sr-only', text: 'Checkpoints' }),
				el('thead', {}, ckHead),
				ckBody))),
		config: el('div', { id: 'panel-config', role: 'tabpanel', 'aria-labelledby': 'tab-config' },
			el('h2', { text: 'Configuration' }), configPre),
		logs: el('div', { id: 'panel-logs', role: 'tabpanel', 'aria-labelledby': 'tab-logs' },
			el('h2', { text: 'Logs' }), el('p', { class: 'note', text: 'Each trial keeps its own log; open it on the trial page.' }), logsList),
		notes: el('div', { id: 'panel-notes', role: 'tabpanel', 'aria-labelledby': 'tab-notes' },
			el('h2', { text: 'Notes' }), metaForm(id, exp)),
	};
	const tabNames = { overview: 'Overview', trials: 'Trials', checkpoints: 'Checkpoints', config: 'Configuration', logs: 'Logs', notes: 'Notes' };
	// Put the view in the address (no new history entry, no re-render).
	function saveView() {
		const q = new URLSearchParams();
		if (currentTab !== 'overview') q.set('tab', currentTab);
		if (view.tsort !== 'id' || view.torder !== 'asc') { q.set('tsort', view.tsort); q.set('torder', view.torder); }
		if (view.tpage > 1) q.set('tpage', String(view.tpage));
		if (view.tlimit !== 25) q.set('tlimit', String(view.tlimit));
		if (view.csort !== 'trial_id' || view.corder !== 'asc') { q.set('csort', view.csort); q.set('corder', view.corder); }
		if (view.cpage > 1) q.set('cpage', String(view.cpage));
		if (view.climit !== 25) q.set('climit', String(view.climit));
		const qs = q.toString();
		history.replaceState(null, '', `#/experiments/${id}` + (qs ? '?' + qs : ''));
	}
	const tabs = Object.entries(tabNames).map(([k, label]) => el('button', {
		type: 'button', role: 'tab', id: `tab-${k}`, 'aria-controls': `panel-${k}`, text: label, onclick: () => showTab(k),
	}));
	let currentTab = 'overview';
	function showTab(k) {
		currentTab = k;
		tabs.forEach((b) => {
			const on = b.id === `tab-${k}`;
			b.setAttribute('aria-selected', String(on));
			b.tabIndex = on ? 0 : -1;
		});
		for (const [n, p] of Object.entries(panels)) p.hidden = n !== k;
		if (k === 'checkpoints') loadCheckpoints();
		saveView();
	}
	const tabList = el('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Experiment views', onkeydown: (ev) => {
		const i = tabs.findIndex((b) => b.id === `tab-${currentTab}`);
		const j = ev.key === 'ArrowRight' ? (i + 1) % tabs.length : ev.key === 'ArrowLeft' ? (i + tabs.length - 1) % tabs.length : -1;
		if (j < 0) return;
		ev.preventDefault();
		showTab(Object.keys(tabNames)[j]);
		tabs[j].focus();
	} }, tabs);
	const ckCols = [
		['trial_id', 'Trial', true], ['steps_completed', 'Batches', true], ['uuid', 'UUID'], ['state', 'State'],
		['size_bytes', 'Size', true], [`metrics.${exp.searcher_metric || 'validation_loss'}`, 'Validation metrics'],
		['path', 'Path'], [null, 'Download'], [null, 'Model registry'],
	];
	const ckPager = pager('ck', 'checkpoints', (n) => { view.cpage = n; saveView(); loadCheckpoints(); });
	panels.checkpoints.append(ckPager.box);
	function drawCkHead() {
		ckHead.replaceChildren(...ckCols.map(([k, label, num]) => {
			if (!k) return el('th', { scope: 'col', text: label });
			const sorted = view.csort === k;
			return el('th', { scope: 'col', class: num ? 'num' : undefined, 'aria-sort': sorted ? (view.corder === 'asc' ? 'ascending' : 'descending') : 'none' },
				el('button', { type: 'button', dataset: { sort: k }, 'aria-label': `Sort by ${label}`, onclick: () => {
					view.corder = view.csort === k && view.corder === 'asc' ? 'desc' : 'asc';
					view.csort = k;
					view.cpage = 1;
					saveView();
					loadCheckpoints().then(() => ckHead.querySelector(`[data-sort="${CSS.escape(k)}"]`).focus());
				} }, label, sorted ? (view.corder === 'asc' ? ' ▲' : ' ▼') : ''));
		}));
	}
	const metricsText = (m) => (m && typeof m === 'object' ? Object.entries(m).map(([k, v]) => `${k}=${fmtNum(v)}`).join(', ') : '–');
	async function loadCheckpoints() {
		drawCkHead();
		const q = new URLSearchParams({ limit: String(view.climit), offset: String((view.cpage - 1) * view.climit), order_by: view.csort, order: view.corder });
		const r = await api(`/experiments/${id}/checkpoints?${q}`, { signal: ctx.signal }).catch((e) => {
			if (e.name !== 'AbortError') ckBody.replaceChildren(el('tr', {}, el('td', { colspan: '9' }, errorBox(e))));
			return null;
		});
		if (!r) return;
		const total = r.pagination ? r.pagination.total : r.checkpoints.length;
		ckPager.show(view.cpage, Math.max(1, Math.ceil(total / view.climit)), total);
		const rows = r.checkpoints.map((c) => el('tr', { 'data-uuid': c.uuid },
			el('td', {}, el('a', { href: `#/trials/${c.trial_id}`, text: String(c.trial_id) })),
			el('td', { class: 'num', text: String(c.steps_completed ?? '–') }),
			el('td', {}, el('code', { text: c.uuid })),
			el('td', { text: c.state }),
			el('td', { class: 'num', text: fmtBytes(c.size_bytes ?? (c.files || []).reduce((n, f) => n + (f.size || 0), 0)) }),
			el('td', { class: 'metrics', text: metricsText(c.metrics) }),
			el('td', {}, el('code', { text: c.path || '–' })),
			el('td', {}, c.state === 'COMPLETED'
				? el('a', { href: `/api/v1/checkpoints/${c.uuid}/download`, class: 'download', download: `checkpoint-${c.uuid}.tar`, text: 'files (.tar)' }) : '',
			' ', el('a', { href: `/api/v1/checkpoints/${c.uuid}`, download: `checkpoint-${c.uuid}.json`, text: 'metadata' })),
			el('td', {}, c.state === 'COMPLETED'
				? el('a', { href: `#/models?checkpoint=${encodeURIComponent(c.uuid)}`, class: 'register', text: 'Register' }) : '')));
		ckBody.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '9', class: 'muted', text: 'No checkpoints.' }))]));
		ctx.main.dataset.ckLoaded = String(Date.now());
	}

	ctx.main.append(title, summary, whyBox, el('div', { class: 'action-row' }, actions, forkActions, taskActions), ownerNote, forkNote, errSlot, tabList, panels.overview, panels.trials,
		panels.checkpoints, panels.config, panels.logs, panels.notes);
	panels.overview.append(
		el('section', { 'aria-labelledby': 'h-curves' },
			el('h2', { id: 'h-curves', text: 'Learning curves' }),
			el('div', { class: 'controls chart-controls' },
				el('label', { for: 'chart-x' }, 'x axis', xSel),
				el('label', { for: 'chart-y' }, 'y scale', ySel),
				el('label', { for: 'chart-smooth' }, 'Smoothing (EMA)', smooth, smoothOut)),
			grid),
		el('section', { 'aria-labelledby': 'h-hp' },
			el('h2', { id: 'h-hp', text: 'Hyperparameters' }),
			el('p', { class: 'note', text: `Each line is a trial; the last axis is its best ${exp.searcher_metric || 'metric'}. Colors match the learning curves. Drag along an axis to keep only the trials in that range; click the axis to clear it.` }),
			parCanvas,
			el('h3', { class: 'sr-only', text: 'Scatter plots' }),
			el('div', { class: 'scatters' }, scatterBoxes),
			heatBox));
	panels.trials.append(
		el('section', { 'aria-labelledby': 'h-trials' },
			el('h2', { id: 'h-trials', text: 'Trials' }),
			el('div', { class: 'controls' }, compareBtn, tbSelBtn, compareNote),
			filterLine,
			tableWrap('Trials table', trialsTable), trialsPager.box),
		el('section', { 'aria-labelledby': 'h-queue' },
			el('h2', { id: 'h-queue', text: 'Queue' }),
			queue.box));
	showTab(tabNames[view.tab] ? view.tab : 'overview');

	// ---- actions
	const acts = {
		pause: ['pause', 'Pause this experiment? Running trials stop after saving a checkpoint.'],
		activate: ['activate', 'Activate this experiment? Its trials are scheduled again.'],
		kill: ['kill', 'Kill this experiment? Running trials are stopped at once; this cannot be undone.'],
		cancel: ['cancel', 'Cancel this experiment? Running trials stop after saving a checkpoint and no new trial starts.'],
	};
	for (const [k, [path, text]] of Object.entries(acts)) {
		buttons[k].addEventListener('click', () => act(path, text, buttons[k].textContent));
	}
	buttons.archive.addEventListener('click', () => {
		const un = exp.archived;
		act(un ? 'unarchive' : 'archive', un ? 'Unarchive this experiment?' : 'Archive this experiment? It is hidden from the list by default.',
			buttons.archive.textContent);
	});
	buttons.delete.addEventListener('click', async () => {
		const nck = await api(`/experiments/${id}/checkpoints`).then((r) => r.checkpoints.length).catch(() => 0);
		const text = `Delete experiment ${id} "${exp.name}" with its ${trials.length} trials, their metrics and logs, and ${nck} checkpoints? This cannot be undone.`;
		if (!(await confirmAction(text, 'Delete'))) return;
		try {
			await api(`/experiments/${id}`, { method: 'DELETE' });
			announce(`Experiment ${id} deleted`);
			location.hash = '#/experiments';
		} catch (e) {
			errSlot.replaceChildren(errorBox(e));
		}
	});
	// Fork: a dialog with the config as YAML (edited, it is sent as the
	// overrides); Continue: the new max_length. Both go to the new experiment;
	// the master's refusals stay in the dialog.
	function forkDialog(cont) {
		const ml = (exp.config && exp.config.searcher && exp.config.searcher.max_length) || {};
		const unit = typeof ml === 'object' ? Object.keys(ml)[0] || 'batches' : null;
		const err = el('div', { id: 'fork-error' });
		const field = cont
			? el('input', { id: 'fork-max-length', type: 'number', min: '1', step: '1', required: true, value: String(unit ? ml[unit] ?? '' : ml) })
			: el('textarea', { id: 'fork-config', rows: '18', cols: '70', spellcheck: 'false' }, exp.config_yaml || '');
		const ok = el('button', { type: 'submit', id: 'fork-ok', class: 'primary', text: cont ? 'Continue' : 'Fork' });
		const d = el('dialog', { id: 'fork-dialog', class: 'fork-dialog', 'aria-labelledby': 'fork-title' },
			el('form', { method: 'dialog' },
				el('h2', { id: 'fork-title', text: cont ? `Continue experiment ${id}` : `Fork experiment ${id}` }),
				el('p', { class: 'note', text: cont
					? `A new experiment whose trial starts from this trial's latest checkpoint and trains up to the new max_length${unit ? ` (${unit})` : ''}.`
					: 'A new experiment with this model definition and the configuration below (edit it first).' }),
				el('label', { for: field.id }, cont ? 'New max_length' : 'Configuration (YAML)'),
				field, err,
				el('div', { class: 'controls' }, ok,
					el('button', { type: 'button', id: 'fork-cancel', text: 'Cancel', onclick: () => d.close() }))));
		d.addEventListener('close', () => d.remove());
		d.querySelector('form').addEventListener('submit', async (ev) => {
			ev.preventDefault();
			let config = field.value;
			if (cont) {
				const n = Number(field.value);
				if (!Number.isInteger(n) || n < 1) {
					err.replaceChildren(errorBox('max_length: expected a positive whole number'));
					return;
				}
				config = unit ? `searcher: {max_length: {${unit}: ${n}}}\n` : `searcher: {max_length: ${n}}\n`;
			}
			ok.disabled = true;
			try {
				const r = await api(`/experiments/${id}/${cont ? 'continue' : 'fork'}`, { method: 'POST', body: { config } });
				const nid = (r.experiment || r).id;
				d.close();
				announce(`Experiment ${nid} created`);
				location.hash = `#/experiments/${nid}`;
			} catch (e) {
				err.replaceChildren(errorBox(e));
				ok.disabled = false;
			}
		});
		ctx.main.append(d);
		d.showModal();
		field.focus();
	}
	forkButtons.fork.addEventListener('click', () => forkDialog(false));
	forkButtons.continue.addEventListener('click', () => forkDialog(true));

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

	// An errored experiment says why: its own reason when the master gives
	// one, else the reasons of its failed trials.
	function showWhy() {
		let why = '';
		if (['ERROR', 'STOPPING_ERROR'].includes(exp.state)) {
			why = exp.error || exp.error_reason || exp.end_reason || '';
			if (!why) {
				const bad = trials.filter((t) => t.state === 'ERROR');
				why = bad.length ? bad.slice(0, 3).map((t) => `trial ${t.id}: ${endText(t) || 'ERROR'}`).join('; ') +
					(bad.length > 3 ? `; and ${bad.length - 3} more failed trials` : '') : 'no trial completed';
			}
		}
		whyBox.hidden = !why;
		whyBox.textContent = why ? `Failed: ${why}` : '';
	}

	function showExp() {
		summary.replaceChildren(
			summaryItem('State', stateBadge(exp.state), 'exp-state'),
			summaryItem('Progress', progressView(exp.progress, exp.state, 'experiment progress'), 'exp-progress'),
			summaryItem('Trials', `${exp.trials_completed} done, ${exp.trials_running} running, ${exp.trials_queued} queued`),
			summaryItem('Best ' + (exp.searcher_metric || 'metric'), fmtNum(exp.best_metric)),
			summaryItem('Searcher', (exp.config && exp.config.searcher && exp.config.searcher.name) || '–'),
			summaryItem('Owner', names.get(exp.owner_id) || `user ${exp.owner_id}`, 'exp-owner'),
			summaryItem('Labels', (exp.labels || []).join(', ') || '–'),
			summaryItem('Created', fmtTime(exp.created_at)),
			summaryItem('Archived', exp.archived ? 'yes' : 'no'));
		showWhy();
		configPre.textContent = exp.config_yaml || JSON.stringify(exp.config || {}, null, 2);
		const terminal = TERMINAL.includes(exp.state);
		const st = {
			pause: exp.state === 'ACTIVE',
			activate: exp.state === 'PAUSED',
			kill: !terminal && !exp.state.startsWith('STOPPING_KILLED'),
			archive: terminal || exp.archived,
			cancel: exp.state === 'ACTIVE' || exp.state === 'PAUSED',
			delete: terminal,
		};
		buttons.archive.textContent = exp.archived ? 'Unarchive' : 'Archive';
		for (const [k, b] of Object.entries(buttons)) b.disabled = !canAct || !st[k];
		const one = exp.trials_total === 1 || (exp.config && exp.config.searcher && exp.config.searcher.name === 'single');
		forkButtons.fork.disabled = !mayFork;
		forkButtons.continue.disabled = !mayFork || !one;
		forkButtons.continue.title = one ? '' : 'Continue takes an experiment of one trial.';
		forkNote.textContent = mayFork ? '' : 'Fork and Continue need the editor role in this experiment\'s workspace.';
		ownerNote.textContent = canAct ? '' : `Only ${names.get(exp.owner_id) || 'its owner'} or an administrator can change this experiment.`;
	}

	// ---- trials, metrics, charts
	const series = new Map(); // trial id -> TrialSeries
	const seen = new Map(); // trial id -> "steps state" when its metrics were last fetched
	let trials = [];
	let tablePage = []; // the trials table's page, as the master sorted it
	const selected = new Set(); // trial ids chosen for the compare view
	const colorOf = (t) => t.trial_index;
	const TERMINAL_TRIAL = ['COMPLETED', 'CANCELED', 'ERROR'];

	// Resolves true when some trial's series changed.
	async function loadMetrics() {
		const changed = await Promise.all(trials.map(async (t) => {
			const mark = `${t.steps_completed} ${t.state}`;
			if (seen.get(t.id) === mark && TERMINAL_TRIAL.includes(t.state)) return false;
			if (!series.has(t.id)) series.set(t.id, new TrialSeries(t.id));
			const c = await series.get(t.id).update(ctx.signal);
			seen.set(t.id, mark);
			return c;
		}));
		return changed.some(Boolean);
	}

	const epochNames = ['epoch', 'epochs'];
	// step -> epoch of a trial, from a metric it reports named epoch(s).
	function epochMap(ts) {
		for (const s of ts.series.values()) {
			if (epochNames.includes(s.name)) return new Map(s.steps.map((st, i) => [st, s.values[i]]));
		}
		return null;
	}

	function drawCharts() {
		const hasEpochs = [...series.values()].some((ts) => epochMap(ts));
		if (hasEpochs !== !!xSel.querySelector('option[value="epochs"]')) {
			if (hasEpochs) xSel.insertBefore(el('option', { value: 'epochs', text: 'epochs' }), xSel.options[1]);
			else xSel.querySelector('option[value="epochs"]').remove();
		}
		const xMode = xSel.value;
		const byKey = new Map();
		for (const t of trials) {
			const ts = series.get(t.id);
			if (!ts) continue;
			const epochs = xMode === 'epochs' ? epochMap(ts) : null;
			for (const [key, s] of ts.series) {
				if (epochNames.includes(s.name)) continue;
				const points = [];
				for (let i = 0; i < s.steps.length; i++) {
					let x = s.steps[i];
					if (xMode === 'time') x = s.times[i] - exp.created_at;
					else if (xMode === 'epochs') x = epochs ? epochs.get(s.steps[i]) : undefined;
					if (typeof x === 'number' && typeof s.values[i] === 'number') points.push({ x, y: s.values[i] });
				}
				if (!points.length) continue;
				if (!byKey.has(key)) byKey.set(key, { key, group: s.group, name: s.name, lines: [] });
				byKey.get(key).lines.push({ label: `Trial ${t.id}`, trialId: t.id, colorIndex: colorOf(t), points });
			}
		}
		const rank = (m) => (m.name === exp.searcher_metric ? 0 : m.group === 'validation' ? 1 : 2);
		const metrics = [...byKey.values()].sort((a, b) => rank(a) - rank(b) || a.key.localeCompare(b.key));
		const xTitle = { batches: 'batches', epochs: 'epochs', time: 'seconds since the experiment started' }[xMode];
		metricGrid(grid, metrics, {
			log: ySel.value === 'log', smoothing: Number(smooth.value), xTitle,
			onOpen: (tid) => { location.hash = `#/trials/${tid}`; },
		});
	}

	function drawHeat() {
		if (hpNames.length < 2) return;
		const done = trials.filter((t) => typeof t.best_metric === 'number');
		const smaller = !(exp.config && exp.config.searcher && exp.config.searcher.smaller_is_better === false);
		heatmap(heatCanvas, done, heatX.value, heatY.value, hpConf[heatX.value], hpConf[heatY.value], exp.searcher_metric || 'metric', smaller);
	}

	function drawHp() {
		drawHeat();
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
		const par = parallel(parCanvas.firstChild, [...axes, { name: metricName }],
			done.map((t) => ({ label: `Trial ${t.id}`, values: [...hpNames.map((h) => t.hparams[h]), t.best_metric], colorIndex: colorOf(t) })));
		par.$onBrush = onBrush;
		onBrush(par);
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
		['end_reason', 'End reason', (t) => t.end_reason || '–'],
		['exit_code', 'Exit code', (t) => (t.exit_code === null || t.exit_code === undefined ? '–' : String(t.exit_code)), true],
		...hpNames.map((h) => ['hp:' + h, h, (t) => hparamText(t.hparams[h]), true]),
	];
	// The master's order_by for a column key.
	const orderBy = (k) => (k.startsWith('hp:') ? 'hparams.' + k.slice(3) : k);
	if (!columns.some(([k]) => orderBy(k) === view.tsort)) view.tsort = 'id';
	function drawTable() {
		keepFocus(trialsTable, drawTableNow);
	}

	function drawTableNow() {
		trialsHead.replaceChildren(...columns.map(([k, label, , num]) => {
				const sorted = view.tsort === orderBy(k);
				return el('th', { scope: 'col', class: num ? 'num' : undefined, 'aria-sort': sorted ? (view.torder === 'asc' ? 'ascending' : 'descending') : 'none' },
					el('button', {
						type: 'button', dataset: { sort: k }, 'aria-label': `Sort by ${label}`,
						onclick: async () => {
							view.torder = sorted && view.torder === 'asc' ? 'desc' : 'asc';
							view.tsort = orderBy(k);
							view.tpage = 1;
							saveView();
							await loadTablePage(true);
							trialsHead.querySelector(`[data-sort="${CSS.escape(k)}"]`).focus();
						},
					}, label, sorted ? (view.torder === 'asc' ? ' ▲' : ' ▼') : ''));
			}), el('th', { scope: 'col', class: 'select', text: 'Compare' }));
		trialsBody.replaceChildren(...tablePage.map((t) => el('tr', { dataset: { trial: t.id } },
			columns.map(([, , f, num]) => el('td', { class: num ? 'num' : undefined }, f(t))),
			el('td', { class: 'select' }, el('input', {
				type: 'checkbox', class: 'compare-pick', 'aria-label': `Compare trial ${t.id}`, checked: selected.has(t.id),
				onchange: (ev) => {
					if (ev.target.checked) selected.add(t.id);
					else selected.delete(t.id);
					showSelected();
				},
			})))));
	}

	// The brush changed: the table shows the trials it keeps, from page 1.
	function onBrush(chart) {
		const ids = chart.$brush && chart.$brush.size
			? chart.$selected.map((l) => Number(l.replace(/^Trial /, ''))).sort((a, b) => a - b) : null;
		if (JSON.stringify(ids) === JSON.stringify(brushIds)) return;
		brushIds = ids;
		view.tpage = 1;
		saveView();
		loadTablePage(true).catch((e) => { if (e.name !== 'AbortError') errSlot.replaceChildren(errorBox(e)); });
	}

	// Fetch the table's page (sorted, filtered by the brush and cut by the
	// master); redraw when it changed.
	async function loadTablePage(force) {
		const q = new URLSearchParams({ limit: String(view.tlimit), offset: String((view.tpage - 1) * view.tlimit), order_by: view.tsort, order: view.torder });
		// The master takes at most 1,000 ids; none kept is an empty table.
		if (brushIds) q.set('trial_ids', brushIds.slice(0, 1000).join(','));
		const r = brushIds && !brushIds.length ? { changed: true, data: { trials: [], pagination: { total: 0 } } }
			: await getCached(`/experiments/${id}/trials?${q}`, ctx.signal);
		const total = r.data.pagination ? r.data.pagination.total : r.data.trials.length;
		trialsPager.show(view.tpage, Math.max(1, Math.ceil(total / view.tlimit)), total);
		filterLine.hidden = !brushIds;
		filterCount.textContent = brushIds ? `Showing ${total} of ${trials.length} trials (filtered by the parallel-coordinates selection)` : '';
		if (r.changed || force) {
			tablePage = r.data.trials;
			drawTable();
		}
		ctx.main.dataset.trialsLoaded = String(Date.now());
	}

	for (const c of [xSel, ySel]) c.addEventListener('change', drawCharts);
	smooth.addEventListener('input', () => {
		smoothOut.textContent = smooth.value;
		drawCharts();
	});
	showExp();
	let first = true;
	await ctx.every(POLL_MS, async () => {
		const [e, tr] = await Promise.all([
			getCached(`/experiments/${id}`, ctx.signal),
			getCached(`/experiments/${id}/trials`, ctx.signal),
		]);
		// A 304 answers with the kept copy: new to this page on its first poll.
		if (e.changed || first) {
			exp = e.data.experiment;
			showExp();
		}
		await queue.refresh(exp);
		await loadTablePage(first);
		if (tr.changed || first) {
			trials = [...tr.data.trials].sort((a, b) => a.id - b.id);
			logsList.replaceChildren(...trials.map((t) => el('li', {},
				el('a', { href: `#/trials/${t.id}`, text: `Trial ${t.id} logs` }), ` (${t.state})`)));
			showWhy();
		}
		const metricsChanged = tr.changed || first ? await loadMetrics() : false;
		if (!ctx.alive) return;
		if (metricsChanged || first || tr.changed) {
			drawCharts();
			drawHp();
		}
		first = false;
		ctx.main.dataset.loaded = String(Date.now());
	});
}
