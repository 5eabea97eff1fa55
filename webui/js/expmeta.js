// SPDX-License-Identifier: GPL-2.0-or-later
// The experiment page's collaboration part: its description and notes,
// editable in place (POST /experiments/{id}/set; the master decides who may),
// and its checkpoints, each with a "Register" link to the Models page.
import { api } from './api.js';
import { announce, el, errorBox, fmtTime, stateBadge, tableWrap } from './util.js';

function metaForm(id, exp) {
	const err = el('div', { id: 'meta-error' });
	const desc = el('input', { id: 'exp-description', name: 'description', value: exp.description || '', size: '60' });
	const notes = el('textarea', { id: 'exp-notes', name: 'notes', rows: '4', cols: '60' });
	notes.value = exp.notes || '';
	const save = el('button', { type: 'submit', id: 'meta-save', text: 'Save' });
	const form = el('form', { id: 'exp-meta', 'aria-label': 'Description and notes' },
		el('label', { for: 'exp-description' }, 'Description ', desc),
		el('label', { for: 'exp-notes' }, 'Notes ', notes), save, err);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		save.disabled = true;
		try {
			await api(`/experiments/${id}/set`, { method: 'POST', body: { description: desc.value, notes: notes.value } });
			err.replaceChildren();
			announce(`Experiment ${id}: description and notes saved`);
		} catch (e) {
			err.replaceChildren(errorBox(e));
		} finally {
			save.disabled = false;
		}
	});
	return form;
}

async function checkpointRows(id, signal) {
	const r = await api(`/experiments/${id}/checkpoints`, { signal });
	return (r.checkpoints || []).map((c) => el('tr', { 'data-uuid': c.uuid },
		el('td', {}, el('code', { text: c.uuid })),
		el('td', { class: 'num', text: String(c.trial_id ?? '–') }),
		el('td', { class: 'num', text: String(c.steps_completed ?? '–') }),
		el('td', {}, stateBadge(c.state || '')),
		el('td', { text: fmtTime(c.created_at || c.report_time) }),
		el('td', {}, c.state === 'COMPLETED'
			? el('a', { href: `#/models?checkpoint=${encodeURIComponent(c.uuid)}`, class: 'register', text: 'Register' }) : '')));
}

// A section for the experiment page; fills its checkpoint table once loaded.
export function metaSection(ctx, id, exp) {
	const body = el('tbody');
	const sec = el('section', { 'aria-labelledby': 'h-meta' },
		el('h2', { id: 'h-meta', text: 'Description and notes' }), metaForm(id, exp),
		el('h2', { text: 'Checkpoints' }),
		tableWrap('Checkpoints', el('table', { id: 'exp-checkpoints' },
			el('caption', { class: 'sr-only', text: 'Checkpoints' }),
			el('thead', {}, el('tr', {}, ['Checkpoint', 'Trial', 'Steps', 'State', 'Saved', ''].map((h) => el('th', { scope: 'col', text: h })))),
			body)));
	checkpointRows(id, ctx.signal).then((rows) => body.replaceChildren(...(rows.length ? rows
		: [el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'No checkpoints.' }))])))
		.catch((e) => {
			if (e.name !== 'AbortError') body.replaceChildren(el('tr', {}, el('td', { colspan: '6' }, errorBox(e))));
		});
	return sec;
}
