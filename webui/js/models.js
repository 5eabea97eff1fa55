// SPDX-License-Identifier: GPL-2.0-or-later
// Models page (#/models): the model registry, each model's versions with the
// checkpoint each points at (its experiment, trial and files), and a form to
// register a checkpoint (by uuid, or ?checkpoint=UUID from a link) as a
// model's next version.
import { api } from './api.js';
import { announce, el, errorBox, fmtBytes, fmtTime, tableWrap } from './util.js';

async function versionRows(model, signal) {
	const full = await api(`/models/${encodeURIComponent(model.name)}`, { signal });
	const rows = [];
	for (const v of full.model.versions || []) {
		let ck = null;
		try {
			const r = await api(`/checkpoints/${v.checkpoint_uuid}`, { signal });
			ck = r.checkpoint || r;
		} catch (e) {
			if (e.name === 'AbortError') throw e;
		}
		const size = ck && Array.isArray(ck.files) ? ck.files.reduce((s, f) => s + (f.size || 0), 0) : null;
		rows.push(el('tr', { 'data-version': String(v.version) },
			el('td', { class: 'num', text: String(v.version) }),
			el('td', {}, el('code', { class: 'uuid', text: v.checkpoint_uuid })),
			el('td', {}, ck && ck.experiment_id ? el('a', { href: `#/experiments/${ck.experiment_id}`, text: `experiment ${ck.experiment_id}` }) : '–'),
			el('td', {}, ck && ck.trial_id ? el('a', { href: `#/trials/${ck.trial_id}`, text: `trial ${ck.trial_id}` }) : '–'),
			el('td', { text: ck ? `${ck.files ? ck.files.length : 0} files, ${fmtBytes(size || 0)}` : 'not readable' }),
			el('td', { text: ck && ck.path ? ck.path : '–' }),
			el('td', { text: fmtTime(v.created_at) })));
	}
	return rows;
}

function registerForm(models, preset, done) {
	const err = el('p', { class: 'error', role: 'alert', id: 'register-error' });
	const sel = el('select', { id: 'register-model', name: 'model' },
		models.map((m) => el('option', { value: m.name, text: m.name })));
	const uuid = el('input', { id: 'register-uuid', name: 'checkpoint', value: preset || '', required: true, size: '40' });
	const btn = el('button', { type: 'submit', class: 'primary', id: 'register-submit', text: 'Register' });
	const form = el('form', { id: 'register-form', 'aria-label': 'Register a checkpoint' },
		el('label', { for: 'register-model' }, 'Model ', sel), ' ',
		el('label', { for: 'register-uuid' }, 'Checkpoint ', uuid), ' ', btn, err);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.textContent = '';
		btn.disabled = true;
		try {
			const r = await api(`/models/${encodeURIComponent(sel.value)}/versions`,
				{ method: 'POST', body: { checkpoint_uuid: uuid.value.trim() } });
			announce(`Registered version ${r.version} of ${sel.value}`);
			await done();
		} catch (e) {
			err.textContent = e.message;
		} finally {
			btn.disabled = false;
		}
	});
	return form;
}

export async function render(ctx) {
	const body = el('div', { id: 'models' });
	ctx.main.append(el('h1', { text: 'Models' }), body);
	const preset = new URLSearchParams(location.hash.split('?')[1] || '').get('checkpoint');
	const draw = async () => {
		try {
			const list = (await api('/models', { signal: ctx.signal })).models;
			const parts = [el('h2', { text: 'Register a checkpoint' }),
				list.length ? registerForm(list, preset, draw) : el('p', { class: 'muted', text: 'Create a model first (det model create NAME).' })];
			for (const m of list) {
				const rows = await versionRows(m, ctx.signal);
				parts.push(el('section', { class: 'model', 'data-name': m.name },
					el('h2', { text: m.name }),
					m.description ? el('p', { text: m.description }) : '',
					tableWrap(`Versions of ${m.name}`, el('table', { class: 'versions' },
						el('caption', { class: 'sr-only', text: `Versions of ${m.name}` }),
						el('thead', {}, el('tr', {}, ['Version', 'Checkpoint', 'Experiment', 'Trial', 'Files', 'Path', 'Registered'].map((h) => el('th', { scope: 'col', text: h })))),
						el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: '7', class: 'muted', text: 'No versions yet.' })))))));
			}
			body.replaceChildren(...parts);
		} catch (e) {
			if (e.name !== 'AbortError') body.replaceChildren(errorBox(e));
		}
	};
	await draw();
}
