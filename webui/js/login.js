// SPDX-License-Identifier: GPL-2.0-or-later
// Login page: user name and password → the master's session cookie (api.js).
import { login } from './api.js';
import { el } from './util.js';

export async function render(ctx) {
	const err = el('p', { class: 'error', role: 'alert', id: 'login-error' });
	const user = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
	const pass = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
	const btn = el('button', { type: 'submit', class: 'primary', text: 'Log in' });
	const form = el('form', { 'aria-labelledby': 'login-title' },
		el('label', { for: 'username' }, 'User name', user),
		el('label', { for: 'password' }, 'Password', pass),
		btn, err);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		err.textContent = '';
		btn.disabled = true;
		try {
			await login(user.value.trim(), pass.value);
			const next = sessionStorage.getItem('det.after_login') || '#/experiments';
			sessionStorage.removeItem('det.after_login');
			location.hash = next === '#/login' ? '#/experiments' : next;
		} catch (e) {
			err.textContent = e.status === 401 ? 'Wrong user name or password.' : e.message;
			pass.select();
		} finally {
			btn.disabled = false;
		}
	});
	document.getElementById('who').hidden = true;
	ctx.main.append(el('div', { class: 'card' },
		el('h1', { id: 'login-title', text: 'Log in to det-slurm' }), form,
		el('p', { class: 'note', text: 'The first administrator password is in the master\'s state directory (admin-password).' })));
	user.focus();
}
