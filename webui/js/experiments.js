// SPDX-License-Identifier: GPL-2.0-or-later
// Experiments list: state, progress, best metric, owner and labels. The
// master pages, sorts and searches (GET /experiments: search over name,
// description, labels, owner and state; filters by state, label, owner,
// archived), so totals stay right at any size. The view lives in the
// address (#/experiments?search=&state=&sort=&order=&page=...): a reload or
// a shared link shows the same page. Polls with If-None-Match.
import { api } from './api.js';
import { drawSortHead, fetchPage, keepInAddress, pageQuery, pager } from './pager.js';
import { el, fmtNum, fmtTime, keepFocus, progressView, stateBadge, tableWrap } from './util.js';

const STATES = ['ACTIVE', 'PAUSED', 'STOPPING_CANCELED', 'STOPPING_KILLED', 'STOPPING_COMPLETED',
	'STOPPING_ERROR', 'COMPLETED', 'CANCELED', 'ERROR'];
const POLL_MS = 3000;
const PAGE_SIZE = 50;
// The view's filters, in the order the address and the master's query name them.
const FILTERS = ['search', 'state', 'label', 'owner', 'archived'];
// Columns: [sort key the master knows or null, heading, numeric].
const COLUMNS = [['id', 'ID', true], ['name', 'Name'], ['state', 'State'], ['progress', 'Progress'],
	['trials', 'Trials', true], [null, 'Best metric'], ['owner', 'Owner'], [null, 'Labels'], ['created_at', 'Created']];

// The view in the address: search, state, label, owner, archived, sort, order, page.
function viewOf(hash) {
	const i = hash.indexOf('?');
	const q = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
	return {
		search: q.get('search') || '', state: q.get('state') || '', label: q.get('label') || '',
		owner: q.get('owner') || '', archived: q.get('archived') === '1',
		sort: q.get('sort') || 'id', order: q.get('order') === 'asc' ? 'asc' : 'desc',
		page: Math.max(1, Number(q.get('page')) || 1),
	};
}

export async function render(ctx) {
	const users = await api('/users', { signal: ctx.signal }).then((r) => r.users).catch(() => []);
	const names = new Map(users.map((u) => [u.id, u.username]));
	const view = viewOf(location.hash);

	const fSearch = el('input', { id: 'f-search', type: 'search', value: view.search, placeholder: 'name, description, label, owner, state' });
	const fState = el('select', { id: 'f-state' }, el('option', { value: '', text: 'any' }),
		STATES.map((s) => el('option', { value: s, text: s, selected: view.state === s })));
	const fLabel = el('input', { id: 'f-label', type: 'search', value: view.label, placeholder: 'exact label' });
	const fOwner = el('select', { id: 'f-owner' }, el('option', { value: '', text: 'anyone' }),
		users.map((u) => el('option', { value: u.username, text: u.username, selected: view.owner === u.username })));
	const fArch = el('input', { id: 'f-archived', type: 'checkbox', checked: view.archived });
	const count = el('p', { class: 'muted', id: 'exp-count', 'aria-live': 'polite' });
	const pages = pager(view, PAGE_SIZE, changed);
	const tbody = el('tbody');
	const headRow = el('tr');
	const table = el('table', { id: 'experiments' },
		el('caption', { class: 'sr-only', text: 'Experiments' }), el('thead', {}, headRow), tbody);
	const errSlot = el('div');

	ctx.main.append(
		el('h1', { text: 'Experiments' }),
		el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter experiments', onsubmit: (e) => e.preventDefault() },
			el('label', { for: 'f-search' }, 'Search', fSearch),
			el('label', { for: 'f-state' }, 'State', fState),
			el('label', { for: 'f-label' }, 'Label', fLabel),
			el('label', { for: 'f-owner' }, 'Owner', fOwner),
			el('label', { class: 'inline', for: 'f-archived' }, fArch, 'Show archived')),
		count, errSlot, tableWrap('Experiments table', table),
		pages.nav);

	const drawHead = () => drawSortHead(headRow, COLUMNS, view, changed, { firstOrder: 'desc' });

	// The view changed: put it in the address and fetch.
	function changed() {
		keepInAddress('#/experiments?', view, FILTERS);
		drawHead();
		refresh(true);
	}
	const thisPage = () => pageQuery(view, FILTERS, 'sort', PAGE_SIZE);

	let lastTotal = 0;
	async function refresh(force) {
		const asked = thisPage();
		const r = await fetchPage('/experiments?' + asked, ctx.signal, () => asked === thisPage(), errSlot);
		if (!r) return;
		if (!r.changed && !force && lastTotal >= 0 && tbody.childElementCount) return;
		const d = r.data;
		const total = d.pagination.total;
		lastTotal = total;
		count.textContent = `${total} experiment${total === 1 ? '' : 's'}`;
		pages.show(total);
		keepFocus(tbody, () => tbody.replaceChildren(...d.experiments.map((x) => el('tr', { dataset: { id: x.id, state: x.state } },
			el('td', { class: 'num' }, el('a', { href: `#/experiments/${x.id}`, text: String(x.id) })),
			el('td', {}, el('a', { href: `#/experiments/${x.id}`, text: x.name }), x.archived ? ' (archived)' : ''),
			el('td', {}, stateBadge(x.state)),
			el('td', {}, progressView(x.progress, x.state, `progress of ${x.name}`)),
			el('td', { class: 'num', text: `${x.trials_completed}/${x.trials_total}` }),
			el('td', { text: x.best_metric === null || x.best_metric === undefined ? '–' : `${x.searcher_metric} ${fmtNum(x.best_metric)}` }),
			el('td', { text: names.get(x.owner_id) || `user ${x.owner_id}` }),
			el('td', {}, (x.labels || []).map((l) => el('span', { class: 'label', text: l }))),
			el('td', { text: fmtTime(x.created_at) })))));
		if (!d.experiments.length) tbody.append(el('tr', {}, el('td', { colspan: '9', class: 'muted', text: 'No experiments match.' })));
	}

	const fromForm = () => {
		view.search = fSearch.value.trim();
		view.state = fState.value;
		view.label = fLabel.value.trim();
		view.owner = fOwner.value;
		view.archived = fArch.checked;
		view.page = 1;
		changed();
	};
	for (const c of [fState, fOwner, fArch]) c.addEventListener('change', fromForm);
	for (const c of [fSearch, fLabel]) c.addEventListener('input', fromForm);
	drawHead();
	await ctx.every(POLL_MS, () => refresh(false));
}
