// SPDX-License-Identifier: GPL-2.0-or-later
// REST client of det-master: the bearer token lives in sessionStorage (gone
// when the tab closes); every call carries it; a 401 sends the user to login.
const TOKEN_KEY = 'det.token';
const USER_KEY = 'det.user';

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

export function token() {
	return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
	try {
		return JSON.parse(sessionStorage.getItem(USER_KEY) || 'null');
	} catch {
		return null;
	}
}

export function setLogin(tok, user) {
	sessionStorage.setItem(TOKEN_KEY, tok);
	sessionStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function clearLogin() {
	sessionStorage.removeItem(TOKEN_KEY);
	sessionStorage.removeItem(USER_KEY);
}

// Call /api/v1 + path; resolves to the parsed JSON body, rejects with ApiError.
export async function api(path, { method = 'GET', body, signal } = {}) {
	const headers = {};
	const tok = token();
	if (tok) headers.Authorization = 'Bearer ' + tok;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch('/api/v1' + path, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body),
		signal,
		cache: 'no-store',
	});
	let data = null;
	try {
		data = await res.json();
	} catch {
		data = null;
	}
	if (!res.ok) {
		const msg = (data && data.error && data.error.message) || res.statusText;
		if (res.status === 401 && tok && !path.startsWith('/auth/')) {
			clearLogin();
			location.hash = '#/login';
		}
		throw new ApiError(res.status, msg);
	}
	return data;
}

export async function login(username, password) {
	const r = await api('/auth/login', { method: 'POST', body: { username, password } });
	setLogin(r.token, { username: r.username });
	const me = await api('/me');
	setLogin(r.token, me);
	return me;
}

export async function logout() {
	try {
		await api('/auth/logout', { method: 'POST' });
	} finally {
		clearLogin();
	}
}

// Every metrics row of a trial (the API pages them by row id).
export async function trialMetrics(id, signal) {
	const out = [];
	let after = 0;
	for (;;) {
		const r = await api(`/trials/${id}/metrics?after=${after}&limit=1000`, { signal });
		out.push(...r.metrics);
		if (r.metrics.length < 1000) return out;
		after = r.metrics[r.metrics.length - 1].id;
	}
}
