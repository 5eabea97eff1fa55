// SPDX-License-Identifier: GPL-2.0-or-later
// Experiments list: state, progress, best metric, owner and labels, with
// filters (server-side state/label/owner/archived, client-side name) and
// live updates by polling.
import { api } from './api.js';
import { el, errorBox, fmtNum, fmtTime, keepFocus, progressView, stateBadge, tableWrap } from './util.js';

const STATES = ['ACTIVE', 'PAUSED', 'STOPPING_CANCELED', 'STOPPING_KILLED', 'STOPPING_COMPLETED',
	'STOPPING_ERROR', 'COMPLETED', 'CANCELED', 'ERROR'];
const POLL_MS = 3000;

export async function render(ctx) {
	const users = await api('/users', { signal: ctx.signal }).then((r) => r.users).catch(() => []);
	const names = new Map(users.map((u) => [u.id, u.username]));
	const saved = JSON.parse(sessionStorage.getItem('det.exp_filters') || '{}');

	const fName = el('input', { id: 'f-name', type: 'search', value: saved.name || '', placeholder: 'part of a name' });
	const fState = el('select', { id: 'f-state' }, el('option', { value: '', text: 'any' }),
		STATES.map((s) => el('option', { value: s, text: s, selected: saved.state === s })));
	const fLabel = el('input', { id: 'f-label', type: 'search', value: saved.label || '', placeholder: 'exact label' });
	const fOwner = el('select', { id: 'f-owner' }, el('option', { value: '', text: 'anyone' }),
		users.map((u) => el('option', { value: u.username, text: u.username, selected: saved.owner === u.username })));
	const fArch = el('input', { id: 'f-archived', type: 'checkbox', checked: !!saved.archived });
	const count = el('p', { class: 'muted', id: 'exp-count', 'aria-live': 'polite' });
	const tbody = el('tbody');
	const table = el('table', { id: 'experiments' },
		el('caption', { class: 'sr-only', text: 'Experiments' }),
		el('thead', {}, el('tr', {}, ['ID', 'Name', 'State', 'Progress', 'Trials', 'Best metric', 'Owner', 'Labels', 'Created']
			.map((h) => el('th', { scope: 'col', class: ['ID', 'Trials'].includes(h) ? 'num' : undefined, text: h })))),
		tbody);
	const errSlot = el('div');

	ctx.main.append(
		el('h1', { text: 'Experiments' }),
		el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter experiments', onsubmit: (e) => e.preventDefault() },
			el('label', { for: 'f-name' }, 'Name', fName),
			el('label', { for: 'f-state' }, 'State', fState),
			el('label', { for: 'f-label' }, 'Label', fLabel),
			el('label', { for: 'f-owner' }, 'Owner', fOwner),
			el('label', { class: 'inline', for: 'f-archived' }, fArch, 'Show archived')),
		count, errSlot, tableWrap('Experiments table', table));

	async function refresh() {
		const q = new URLSearchParams({ limit: '1000', sort: 'id', order: 'desc' });
		if (fState.value) q.set('state', fState.value);
		if (fLabel.value.trim()) q.set('label', fLabel.value.trim());
		if (fOwner.value) q.set('owner', fOwner.value);
		if (fArch.checked) q.set('archived', '1');
		sessionStorage.setItem('det.exp_filters', JSON.stringify({ name: fName.value, state: fState.value,
			label: fLabel.value, owner: fOwner.value, archived: fArch.checked }));
		let r;
		try {
			r = await api('/experiments?' + q, { signal: ctx.signal });
			errSlot.replaceChildren();
		} catch (e) {
			if (e.name !== 'AbortError') errSlot.replaceChildren(errorBox(e));
			return;
		}
		const needle = fName.value.trim().toLowerCase();
		const rows = r.experiments.filter((x) => !needle || x.name.toLowerCase().includes(needle));
		count.textContent = `${rows.length} experiment${rows.length === 1 ? '' : 's'}`;
		keepFocus(tbody, () => tbody.replaceChildren(...rows.map((x) => el('tr', { dataset: { id: x.id, state: x.state } },
			el('td', { class: 'num' }, el('a', { href: `#/experiments/${x.id}`, text: String(x.id) })),
			el('td', {}, el('a', { href: `#/experiments/${x.id}`, text: x.name }), x.archived ? ' (archived)' : ''),
			el('td', {}, stateBadge(x.state)),
			el('td', {}, progressView(x.progress, x.state, `progress of ${x.name}`)),
			el('td', { class: 'num', text: `${x.trials_completed}/${x.trials_total}` }),
			el('td', { text: x.best_metric === null || x.best_metric === undefined ? '–' : `${x.searcher_metric} ${fmtNum(x.best_metric)}` }),
			el('td', { text: names.get(x.owner_id) || `user ${x.owner_id}` }),
			el('td', {}, (x.labels || []).map((l) => el('span', { class: 'label', text: l }))),
			el('td', { text: fmtTime(x.created_at) })))));
		if (!rows.length) tbody.append(el('tr', {}, el('td', { colspan: '9', class: 'muted', text: 'No experiments match.' })));
	}
	for (const c of [fState, fOwner, fArch]) c.addEventListener('change', refresh);
	for (const c of [fName, fLabel]) c.addEventListener('input', refresh);
	await ctx.every(POLL_MS, refresh);
}
