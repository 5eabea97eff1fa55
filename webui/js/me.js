// SPDX-License-Identifier: GPL-2.0-or-later
// The user's own page (#/me, opened by the name at the top): who is logged
// in, and a form to change one's password (POST /users/me/password). The new
// password is typed twice; the master's refusal (too short, too long, not a
// password user) is shown as it says it.
import { api } from './api.js';
import { announce, el } from './util.js';

export async function render(ctx) {
	const me = ctx.me || (await api('/me', { signal: ctx.signal }));
	const err = el('p', { class: 'error', role: 'alert', id: 'password-error' });
	const done = el('p', { class: 'note', role: 'status', id: 'password-done' });
	const pw1 = el('input', { id: 'new-password', name: 'new-password', type: 'password', autocomplete: 'new-password', required: true });
	const pw2 = el('input', { id: 'new-password2', name: 'new-password2', type: 'password', autocomplete: 'new-password', required: true });
	const btn = el('button', { type: 'submit', class: 'primary', id: 'password-save', text: 'Change password' });
	const form = el('form', { id: 'password-form', 'aria-labelledby': 'h-password' },
		el('label', { for: 'new-password' }, 'New password', pw1),
		el('label', { for: 'new-password2' }, 'New password again', pw2),
		btn, err, done);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.textContent = '';
		done.textContent = '';
		if (pw1.value !== pw2.value) {
			err.textContent = 'The two new passwords differ.';
			pw2.select();
			return;
		}
		btn.disabled = true;
		try {
			await api('/users/me/password', { method: 'POST', body: { password: pw1.value } });
			form.reset();
			done.textContent = 'Password changed. Use it the next time you log in.';
			announce('Password changed');
		} catch (e) {
			err.textContent = `Not changed: ${e.message}`;
		} finally {
			btn.disabled = false;
		}
	});
	ctx.main.append(el('h1', { id: 'me-title', text: `User ${me.username}` }),
		el('dl', { class: 'summary', id: 'me-summary' },
			el('div', {}, el('dt', { text: 'Name' }), el('dd', { text: me.username })),
			el('div', {}, el('dt', { text: 'Administrator' }), el('dd', { text: me.admin ? 'yes' : 'no' }))),
		el('div', { class: 'card' }, el('h2', { id: 'h-password', text: 'Change password' }), form));
}
