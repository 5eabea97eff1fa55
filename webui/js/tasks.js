// SPDX-License-Identifier: GPL-2.0-or-later
// Tasks pages (doc/tasks.md): #/tasks lists the tasks the user may see
// (GET /tasks: commands and the trials' array tasks) one page at a time; the
// master pages, sorts, filters by kind and state and searches, so totals stay
// right at any size. The view lives in the address
// (#/tasks?kind=&state=&search=&sort=&order=&page=): a reload shows the same
// page. #/tasks/ID shows one task, its output read from byte 0 in
// 64 KiB pages (GET /tasks/ID/logs?offset=) and then followed with the API's
// long poll (follow=1) while the task runs, a Kill button for those who may
// kill it, and an Open link when the task has a proxy address. The "New
// notebook" dialog (notebookDialog, also opened from an experiment's page)
// starts a notebook with POST /tasks and opens its page.
import { api, getCached } from './api.js';
import { drawSortHead, fetchPage, keepInAddress, pageQuery, pager } from './pager.js';
import { announce, confirmAction, el, errorBox, fmtTime, keepFocus, stateBadge, tableWrap } from './util.js';

const POLL_MS = 3000;
const LOG_SHOWN_MAX = 4 * 1024 * 1024; // bytes of output shown before "Load more" is needed
const KINDS = ['command', 'notebook', 'shell', 'tensorboard', 'trial'];
const STATES = ['QUEUED', 'STARTING', 'RUNNING', 'TERMINATED'];
const PAGE_SIZE = 25;
// The view's filters, in the order the address and the master's query name them.
const FILTERS = ['kind', 'state', 'search'];

// A wait status as a shell reports it: the exit code, or 128 + the signal.
function exitCode(t) {
	if (t.exit_code !== undefined && t.exit_code !== null) return t.exit_code;
	const st = t.exit_status;
	if (st === undefined || st === null) return null;
	if (st < 0) return 1;
	return (st & 0x7f) === 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f);
}

// The number of a command task ("task-12" or 12), or null (a trial's array task).
function taskNumber(t) {
	const m = /^(?:task-)?(\d+)$/.exec(String(t.task_id ?? t.id));
	return m ? Number(m[1]) : null;
}

function ownerText(ctx, uid) {
	if (uid === null || uid === undefined) return '–';
	return ctx.me && ctx.me.uid === uid ? ctx.me.username : `uid ${uid}`;
}

// The task's proxy address (proxy_url or url) when it is one of this site's
// or an http(s) address; anything else (javascript:, data:) is not linked.
export function openHref(t) {
	const raw = t.proxy_url || t.url;
	if (typeof raw !== 'string' || !raw) return null;
	try {
		const u = new URL(raw, location.origin);
		return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
	} catch {
		return null;
	}
}

function mayKill(ctx, t) {
	return t.state !== 'TERMINATED' && t.kind !== 'trial' && taskNumber(t) !== null &&
		!!ctx.me && (ctx.me.admin || ctx.me.uid === t.owner_uid);
}

// Columns: [the master's order_by for it or null, heading].
const COLUMNS = [['id', 'ID'], ['kind', 'Kind'], ['description', 'Description'], ['owner_uid', 'Owner'],
	['state', 'State'], [null, 'Slots'], [null, 'Pool'], ['created_at', 'Started'], ['ended_at', 'Ended'],
	[null, 'Exit code'], [null, 'End reason']];
const SORTS = COLUMNS.map((c) => c[0]).filter((k) => k);

// The view in the address: kind, state, search, sort, order, page.
function viewOf(hash) {
	const i = hash.indexOf('?');
	const q = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
	const sort = q.get('sort');
	return {
		kind: KINDS.includes(q.get('kind')) ? q.get('kind') : '',
		state: STATES.includes(q.get('state')) ? q.get('state') : '',
		search: q.get('search') || '',
		sort: SORTS.includes(sort) ? sort : 'id', order: q.get('order') === 'asc' ? 'asc' : 'desc',
		page: Math.max(1, Math.floor(Number(q.get('page'))) || 1),
	};
}

// A labelled field of the notebook dialog.
function field(id, label, input, hint) {
	return el('div', { class: 'field' }, el('label', { for: id, text: label }), input,
		hint ? el('small', { class: 'muted', id: `${id}-hint`, text: hint }) : null);
}

// The "New notebook" dialog: a modal <dialog> (focus stays inside, Escape
// closes it) whose form POSTs /tasks {"kind": "notebook", ...}; the API's
// refusal is shown in it; on success the new task's page opens. The image
// field is offered only when the master has images (a container runtime).
// prefill: { description }.
export async function notebookDialog(prefill = {}) {
	const back = document.activeElement;
	const pools = await api('/resource-pools').then((r) => r.resource_pools || r.pools || []).catch(() => []);
	const images = await api('/images').then((r) => r.images || []).catch(() => []);
	const slots = el('input', { id: 'nb-slots', type: 'number', min: '0', step: '1', value: '0', required: true });
	const pool = el('select', { id: 'nb-pool' }, el('option', { value: '', text: 'default' }),
		pools.map((p) => el('option', { value: p.name, text: p.name })));
	const image = el('input', { id: 'nb-image', type: 'text', list: 'nb-images', autocomplete: 'off' });
	const idle = el('input', { id: 'nb-idle', type: 'number', min: '0', step: '1', placeholder: 'the master\'s default' });
	const desc = el('input', { id: 'nb-description', type: 'text', maxlength: '1024', value: prefill.description || '' });
	const error = el('p', { class: 'error', id: 'nb-error', role: 'alert', hidden: true });
	const create = el('button', { type: 'submit', id: 'nb-create', class: 'primary', text: 'Start notebook' });
	const cancel = el('button', { type: 'button', id: 'nb-cancel', text: 'Cancel' });
	const form = el('form', { method: 'dialog', id: 'nb-form' },
		el('h2', { id: 'nb-title', text: 'New notebook' }),
		field('nb-slots', 'Slots (GPUs)', slots),
		field('nb-pool', 'Resource pool', pool),
		images.length ? [field('nb-image', 'Image (environment.image; empty: none)', image),
			el('datalist', { id: 'nb-images' }, images.map((i) => el('option', { value: i.name })))] : null,
		field('nb-idle', 'Idle timeout (minutes; 0: never)', idle),
		field('nb-description', 'Description', desc),
		error, el('div', { class: 'buttons' }, cancel, create));
	const dlg = el('dialog', { id: 'nb-dialog', class: 'form-dialog', 'aria-labelledby': 'nb-title' }, form);
	document.body.append(dlg);
	dlg.addEventListener('close', () => {
		dlg.remove();
		if (back && back.focus && document.contains(back)) back.focus();
	});
	cancel.addEventListener('click', () => dlg.close());
	// Tab from the last control goes to the first, Shift+Tab from the first to
	// the last: the focus never leaves the dialog for the browser's own UI.
	dlg.addEventListener('keydown', (ev) => {
		if (ev.key !== 'Tab') return;
		const all = [...dlg.querySelectorAll('input, select, button')].filter((x) => !x.disabled);
		const first = all[0], last = all[all.length - 1];
		if (!ev.shiftKey && document.activeElement === last) {
			ev.preventDefault();
			first.focus();
		} else if (ev.shiftKey && document.activeElement === first) {
			ev.preventDefault();
			last.focus();
		}
	});
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.hidden = true;
		const body = { kind: 'notebook', resources: { slots: Number(slots.value) } };
		if (pool.value) body.resources.resource_pool = pool.value;
		if (images.length && image.value.trim()) body.environment = { image: image.value.trim() };
		if (idle.value !== '') body.idle_timeout = Math.round(Number(idle.value) * 60);
		if (desc.value.trim()) body.description = desc.value.trim();
		create.disabled = true;
		try {
			const r = await api('/tasks', { method: 'POST', body });
			const n = taskNumber(r.task);
			announce(`Notebook ${n} started`);
			dlg.close();
			location.hash = `#/tasks/${n}`;
		} catch (e) {
			error.textContent = `Not started: ${e.message}`;
			error.hidden = false;
			create.disabled = false;
			create.focus();
		}
	});
	dlg.showModal();
	slots.focus();
	return dlg;
}

function select(id, label, values, chosen) {
	return el('label', { for: id }, label,
		el('select', { id }, el('option', { value: '', text: 'all' }),
			values.map((v) => el('option', { value: v, text: v, selected: v === chosen }))));
}

export async function render(ctx) {
	const view = viewOf(location.hash);
	const kindSel = select('tasks-kind', 'Kind', KINDS, view.kind);
	const stateSel = select('tasks-state', 'State', STATES, view.state);
	const search = el('input', { id: 'tasks-search', type: 'search', value: view.search, maxlength: '256',
		placeholder: 'description, kind, state, end reason' });
	const newNb = el('button', { type: 'button', id: 'tasks-new-notebook', class: 'primary', text: 'New notebook',
		onclick: () => notebookDialog() });
	const count = el('p', { class: 'muted', id: 'tasks-count', 'aria-live': 'polite' });
	const pages = pager(view, PAGE_SIZE, changed);
	const headRow = el('tr');
	const tbody = el('tbody');
	const errSlot = el('div');
	ctx.main.append(el('h1', { text: 'Tasks' }),
		el('div', { class: 'controls' }, newNb, kindSel, stateSel,
			el('label', { for: 'tasks-search' }, 'Search', search)),
		count, errSlot,
		tableWrap('Tasks', el('table', { id: 'tasks-table' },
			el('caption', { class: 'sr-only', text: 'Tasks' }), el('thead', {}, headRow), tbody)),
		pages.nav);

	function row(t) {
		const n = taskNumber(t);
		const link = t.kind === 'trial' && t.experiment_id
			? el('a', { href: `#/experiments/${t.experiment_id}`, text: `${t.task_id}` })
			: n !== null ? el('a', { href: `#/tasks/${n}`, text: String(n) }) : String(t.task_id);
		const open = openHref(t);
		return el('tr', { dataset: { task: String(t.task_id ?? t.id) } },
			el('td', {}, link, open ? [' ', el('a', { href: open, class: 'open', target: '_blank', rel: 'noopener', text: 'Open' })] : null),
			el('td', { text: t.kind }),
			el('td', { text: t.description || '' }),
			el('td', { text: ownerText(ctx, t.owner_uid) }),
			el('td', {}, stateBadge(t.state)),
			el('td', { class: 'num', text: t.slots === null || t.slots === undefined ? '–' : String(t.slots) }),
			el('td', { text: t.pool || t.resource_pool || 'default' }),
			el('td', { text: fmtTime(t.started_at || t.created_at) }),
			el('td', { text: fmtTime(t.ended_at) }),
			el('td', { class: 'num', text: exitCode(t) === null ? '–' : String(exitCode(t)) }),
			el('td', { text: t.end_reason || '' }));
	}

	const drawHead = () => drawSortHead(headRow, COLUMNS, view, changed, { firstOrder: 'asc', buttonClass: 'sort' });

	// The view changed: put it in the address and fetch.
	function changed() {
		keepInAddress('#/tasks?', view, FILTERS);
		drawHead();
		refresh(true);
	}
	const thisPage = () => pageQuery(view, FILTERS, 'order_by', PAGE_SIZE);

	async function refresh(force) {
		const asked = thisPage();
		const r = await fetchPage('/tasks?' + asked, ctx.signal, () => asked === thisPage(), errSlot);
		if (!r) return;
		if (!r.changed && !force && tbody.childElementCount) return;
		const d = r.data;
		const total = d.pagination.total;
		count.textContent = `${total} task${total === 1 ? '' : 's'}`;
		pages.show(total);
		const tasks = d.tasks || [];
		keepFocus(tbody, () => tbody.replaceChildren(...(tasks.length ? tasks.map(row)
			: [el('tr', {}, el('td', { colspan: String(COLUMNS.length), class: 'muted', text: 'No tasks.' }))])));
	}

	const fromForm = () => {
		view.kind = kindSel.querySelector('select').value;
		view.state = stateSel.querySelector('select').value;
		view.search = search.value.trim();
		view.page = 1;
		changed();
	};
	kindSel.addEventListener('change', fromForm);
	stateSel.addEventListener('change', fromForm);
	search.addEventListener('input', fromForm);
	drawHead();
	await ctx.every(POLL_MS, () => refresh(false));
}

function summaryItem(name, value, id) {
	return el('div', {}, el('dt', { text: name }), el('dd', { id }, value));
}

export async function renderTask(ctx, idText) {
	const id = Number(idText);
	let task = (await api(`/tasks/${id}`, { signal: ctx.signal })).task;
	const summary = el('dl', { class: 'summary', id: 'task-summary' });
	const actions = el('div', { class: 'actions', id: 'task-actions' });
	const logs = el('pre', { class: 'logs', id: 'task-logs', tabindex: '0', 'aria-label': 'Task output', 'aria-live': 'off' });
	const logState = el('span', { class: 'muted', id: 'task-logs-state' });
	const more = el('button', { type: 'button', id: 'task-logs-more', text: 'Load more', hidden: true });
	const error = el('div');
	const why = el('p', { class: 'error', id: 'task-why', role: 'status', hidden: true });
	ctx.main.append(
		el('p', {}, el('a', { href: '#/tasks', text: '← Tasks' })),
		el('h1', { text: `Task ${id}` }), summary, why, actions, error,
		el('section', { 'aria-labelledby': 'h-task-logs' }, el('h2', { id: 'h-task-logs', text: 'Output' }),
			el('div', { class: 'controls' }, logState, more), logs));

	const kill = el('button', {
		type: 'button', id: 'task-kill', class: 'danger', text: 'Kill',
		onclick: async () => {
			if (!(await confirmAction(`Kill task ${id} (${task.kind})? Its processes get SIGTERM, then SIGKILL.`, 'Kill'))) return;
			try {
				task = (await api(`/tasks/${id}/kill`, { method: 'POST', signal: ctx.signal })).task;
				announce(`Task ${id} killed`);
				show();
			} catch (e) {
				if (e.name !== 'AbortError') error.replaceChildren(errorBox(e));
			}
		},
	});

	function show() {
		const code = exitCode(task);
		const open = openHref(task);
		keepFocus(ctx.main, () => {
			summary.replaceChildren(...[
				summaryItem('State', stateBadge(task.state), 'task-state'),
				summaryItem('Kind', task.kind),
				task.description ? summaryItem('Description', task.description, 'task-description') : null,
				summaryItem('Owner', ownerText(ctx, task.owner_uid)),
				summaryItem('Slots', String(task.slots ?? '–')),
				summaryItem('Pool', task.resource_pool || task.pool || 'default'),
				summaryItem('Created', fmtTime(task.created_at)),
				summaryItem('Started', fmtTime(task.started_at)),
				summaryItem('Ended', fmtTime(task.ended_at)),
				summaryItem('Exit code', code === null ? '–' : String(code), 'task-exit'),
				summaryItem('End reason', task.end_reason || '–', 'task-end')].filter(Boolean));
			why.hidden = !(task.state === 'TERMINATED' && task.end_reason && !['completed', 'killed'].includes(task.end_reason));
			why.textContent = why.hidden ? '' : `This ${task.kind} ended: ${task.end_reason}.`;
			actions.replaceChildren(...[
				open ? el('a', { href: open, id: 'task-open', target: '_blank', rel: 'noopener', text: 'Open' }) : null,
				mayKill(ctx, task) ? kill : null].filter(Boolean));
		});
	}
	show();

	// The output from byte 0, a page at a time; once caught up, long polls
	// (follow=1) while the task runs. Past LOG_SHOWN_MAX bytes the reader
	// waits for "Load more".
	let offset = 0;
	let shown = 0;
	async function readLogs() {
		while (ctx.alive) {
			await ctx.whenVisible(); // no long polls from a hidden tab
			if (!ctx.alive) return;
			if (shown >= LOG_SHOWN_MAX) {
				more.hidden = false;
				logState.textContent = `${offset} bytes shown; more output follows`;
				await new Promise((res) => more.addEventListener('click', res, { once: true }));
				more.hidden = true;
				logs.replaceChildren();
				shown = 0;
			}
			let r;
			try {
				r = await api(`/tasks/${id}/logs?offset=${offset}&follow=1`, { signal: ctx.signal });
			} catch (e) {
				if (e.name === 'AbortError' || !ctx.alive) return;
				logState.textContent = `output stream interrupted (${e.message}); retrying`;
				await new Promise((res) => setTimeout(res, 2000));
				continue;
			}
			if (r.text) {
				const atEnd = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
				logs.append(r.text);
				shown += r.text.length;
				if (atEnd) logs.scrollTop = logs.scrollHeight;
			}
			offset = r.offset;
			logs.dataset.offset = String(offset);
			if (r.state !== task.state) refresh().catch(() => {});
			if (r.done) {
				logState.textContent = `${offset} bytes; the task has ended`;
				logs.dataset.done = '1';
				return;
			}
			logState.textContent = `${offset} bytes; following`;
		}
	}

	async function refresh() {
		const r = await getCached(`/tasks/${id}`, ctx.signal);
		if (!r.changed) return;
		task = r.data.task;
		show();
	}
	readLogs();
	await ctx.every(POLL_MS, refresh);
}
