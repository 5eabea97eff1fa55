// SPDX-License-Identifier: GPL-2.0-or-later
// REST client of det-master. The login is a session cookie the master sets
// (det_session: HttpOnly, so no script here can read the token; shared by
// every tab of the browser); state-changing calls send the det_csrf cookie's
// value in X-Det-CSRF, which another site cannot read. A 401 sends the user
// to login.

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

let me = null; // GET /me of the session, or null

export function currentUser() {
	return me;
}

export function clearLogin() {
	me = null;
	kept.clear();
}

// Who the session cookie belongs to (GET /me), or null when there is none.
export async function loadMe() {
	const res = await fetch('/api/v1/me', { cache: 'no-store' });
	me = res.ok ? await res.json() : null;
	return me;
}

function csrf() {
	const m = /(?:^|;\s*)det_csrf=([0-9a-f]+)/.exec(document.cookie);
	return m ? m[1] : '';
}

function authHeaders(method = 'GET') {
	const headers = {};
	if (method !== 'GET' && method !== 'HEAD') headers['X-Det-CSRF'] = csrf();
	return headers;
}

function failure(res, data, path) {
	const msg = (data && data.error && data.error.message) || res.statusText;
	if (res.status === 401 && !path.startsWith('/auth/')) {
		clearLogin();
		if (!location.hash.startsWith('#/login')) {
			sessionStorage.setItem('det.after_login', location.hash);
			location.hash = '#/login';
		}
	}
	return new ApiError(res.status, msg);
}

// Call /api/v1 + path; resolves to the parsed JSON body, rejects with ApiError.
export async function api(path, { method = 'GET', body, signal } = {}) {
	const headers = authHeaders(method);
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
	} catch (e) {
		if (e.name === 'AbortError') throw e; // the page was left while the body came
		data = null;
	}
	if (!res.ok) throw failure(res, data, path);
	return data;
}

// The last answer (and its ETag) of each GET path, so a poll of an
// unchanged view is a 304 with no body.
const kept = new Map();
const KEPT_MAX = 500;

// GET /api/v1 + path with If-None-Match: resolves to {data, changed}.
export async function getCached(path, signal) {
	const old = kept.get(path);
	const headers = authHeaders();
	if (old) headers['If-None-Match'] = old.etag;
	const res = await fetch('/api/v1' + path, { headers, signal, cache: 'no-store' });
	if (res.status === 304 && old) return { data: old.data, changed: false };
	const data = await res.json().catch((e) => {
		if (e.name === 'AbortError') throw e;
		return null;
	});
	if (!res.ok) throw failure(res, data, path);
	const etag = res.headers.get('ETag');
	if (etag) {
		if (kept.size >= KEPT_MAX) kept.clear();
		kept.set(path, { etag, data });
	}
	return { data, changed: true };
}

// Log in: the master sets the session cookies; the token in the answer is
// not kept anywhere.
export async function login(username, password) {
	await api('/auth/login', { method: 'POST', body: { username, password } });
	const who = await loadMe();
	if (!who) throw new ApiError(401, 'the login did not start a session (cookies blocked?)');
	return who;
}

// Log out: the master revokes the session and clears the cookies.
export async function logout() {
	try {
		await api('/auth/logout', { method: 'POST' });
	} finally {
		clearLogin();
	}
}

// Points per series asked of the master (it keeps each bucket's min and max).
export const MAX_POINTS = 1000;

// Thin a series {steps, values, times} in place to at most max points the
// way the master does: first and last kept, and each bucket's min and max.
function thin(s, max) {
	const n = s.values.length;
	if (n <= max) return;
	const keep = [0];
	const nb = Math.floor((max - 2) / 2), inner = n - 2;
	for (let b = 0; b < nb; b++) {
		const lo = 1 + Math.floor((b * inner) / nb), hi = 1 + Math.floor(((b + 1) * inner) / nb);
		if (lo >= hi) continue;
		let mn = lo, mx = lo;
		for (let i = lo + 1; i < hi; i++) {
			if (s.values[i] < s.values[mn]) mn = i;
			if (s.values[i] > s.values[mx]) mx = i;
		}
		keep.push(Math.min(mn, mx));
		if (mn !== mx) keep.push(Math.max(mn, mx));
	}
	keep.push(n - 1);
	for (const k of ['steps', 'values', 'times']) s[k] = keep.map((i) => s[k][i]);
}

// A trial's metric series kept between polls: each update asks only for
// rows newer than the last one seen (since) and the master downsamples them
// (max_points); a series grown past twice MAX_POINTS is thinned here.
export class TrialSeries {
	constructor(id) {
		this.id = id;
		this.lastId = 0;
		this.series = new Map(); // "group/name" -> {group, name, steps, values, times}
	}

	// Resolves true when some series changed.
	async update(signal) {
		let changed = false;
		for (;;) {
			const r = await getCached(`/trials/${this.id}/metrics?since=${this.lastId}&max_points=${MAX_POINTS}`, signal);
			const d = r.data;
			// A 304 means the kept answer is the answer: use it the same way.
			if (!d.series.length) {
				this.lastId = Math.max(this.lastId, d.last_id || 0);
				return changed;
			}
			for (const s of d.series) {
				const key = `${s.group}/${s.name}`;
				let cur = this.series.get(key);
				if (!cur) {
					cur = { group: s.group, name: s.name, steps: [], values: [], times: [] };
					this.series.set(key, cur);
				}
				cur.steps.push(...s.steps);
				cur.values.push(...s.values);
				cur.times.push(...s.times);
				if (cur.steps.length > 2 * MAX_POINTS) thin(cur, MAX_POINTS);
			}
			changed = true;
			this.lastId = d.last_id;
			if (!d.more) return changed;
		}
	}
}
