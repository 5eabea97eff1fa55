// SPDX-License-Identifier: GPL-2.0-or-later
// The experiment page's Notes tab: its description and notes, editable in
// place (POST /experiments/{id}/set; the master decides who may).
import { api } from './api.js';
import { announce, el, errorBox } from './util.js';

export function metaForm(id, exp) {
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
