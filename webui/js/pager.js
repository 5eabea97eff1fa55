// SPDX-License-Identifier: GPL-2.0-or-later
// The parts of a paged, sorted list whose view lives in the address
// (#/experiments, #/tasks): the sortable column headings, the
// Previous/Next pager, and the fetch of one page that drops an answer when
// the view changed while it was on its way (the master pages and sorts).
import { getCached } from './api.js';
import { el, errorBox } from './util.js';

// Fill headRow from columns [[sort key or null, heading, numeric], ...]: a
// heading with a key is a button that sorts by it (firstOrder first, then the
// other way), goes back to page 1, calls changed() and keeps the focus.
export function drawSortHead(headRow, columns, view, changed, { firstOrder = 'desc', buttonClass } = {}) {
	const otherOrder = firstOrder === 'asc' ? 'desc' : 'asc';
	headRow.replaceChildren(...columns.map(([key, label, num]) => {
		const sorted = view.sort === key;
		const th = el('th', { scope: 'col', class: num ? 'num' : undefined,
			'aria-sort': key ? (sorted ? (view.order === 'asc' ? 'ascending' : 'descending') : 'none') : undefined });
		if (!key) th.textContent = label;
		else {
			th.append(el('button', {
				type: 'button', class: buttonClass, dataset: { sort: key }, 'aria-label': `Sort by ${label}`,
				onclick: () => {
					view.order = sorted && view.order === firstOrder ? otherOrder : firstOrder;
					view.sort = key;
					view.page = 1;
					changed();
					headRow.querySelector(`[data-sort="${key}"]`).focus();
				},
			}, label, sorted ? (view.order === 'asc' ? ' ▲' : ' ▼') : ''));
		}
		return th;
	}));
}

// The Previous/Next pager of a list of pageSize rows a page: nav goes into the
// page; show(total) after each fetch says where view.page stands.
export function pager(view, pageSize, changed) {
	const prev = el('button', { type: 'button', id: 'page-prev', text: '← Previous', onclick: () => {
		view.page = Math.max(1, view.page - 1);
		changed();
	} });
	const next = el('button', { type: 'button', id: 'page-next', text: 'Next →', onclick: () => {
		view.page++;
		changed();
	} });
	const info = el('span', { id: 'page-info', class: 'muted' });
	return {
		nav: el('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, info, next),
		show(total) {
			const pages = Math.max(1, Math.ceil(total / pageSize));
			info.textContent = `page ${view.page} of ${pages}`;
			prev.disabled = view.page <= 1;
			next.disabled = view.page >= pages;
		},
	};
}

// GET path with If-None-Match (getCached): its answer, or null when current()
// says the view changed meanwhile or the request failed (then shown in errSlot).
export async function fetchPage(path, signal, current, errSlot) {
	let r;
	try {
		r = await getCached(path, signal);
	} catch (e) {
		if (e.name !== 'AbortError') errSlot.replaceChildren(errorBox(e));
		return null;
	}
	if (!current()) return null;
	errSlot.replaceChildren();
	return r;
}

// The query of view: its filters (names of view's fields, in this order; left
// out when empty or false, '1' when true), then sortParam=view.sort and order.
export function viewQuery(view, filters, sortParam = 'sort') {
	const q = new URLSearchParams();
	for (const f of filters) if (view[f]) q.set(f, view[f] === true ? '1' : view[f]);
	q.set(sortParam, view.sort);
	q.set('order', view.order);
	return q;
}

// Put view in the address under base ('#/tasks?'), its page when past the
// first: no new history entry and no re-render.
export function keepInAddress(base, view, filters) {
	const q = viewQuery(view, filters);
	if (view.page > 1) q.set('page', String(view.page));
	history.replaceState(null, '', base + q);
}

// The master's query for view's page of pageSize rows.
export function pageQuery(view, filters, sortParam, pageSize) {
	const q = viewQuery(view, filters, sortParam);
	q.set('limit', String(pageSize));
	q.set('offset', String((view.page - 1) * pageSize));
	return q.toString();
}
