// SPDX-License-Identifier: GPL-2.0-or-later
// DOM helpers shared by the pages: element builder (text only, never HTML
// strings, so API data cannot inject markup), formatting, confirmation.
export function el(tag, attrs = {}, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') e.className = v;
		else if (k === 'text') e.textContent = v;
		else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
		else if (k === 'dataset') Object.assign(e.dataset, v);
		else if (v === true) e.setAttribute(k, '');
		else e.setAttribute(k, String(v));
	}
	for (const c of children.flat()) {
		if (c === undefined || c === null || c === false) continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

export function fmtNum(x) {
	if (x === null || x === undefined || Number.isNaN(x)) return '–';
	if (typeof x !== 'number') return String(x);
	if (Number.isInteger(x)) return String(x);
	const a = Math.abs(x);
	return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(3) : x.toPrecision(4).replace(/\.?0+$/, '');
}

export function fmtTime(sec) {
	if (!sec) return '–';
	return new Date(sec * 1000).toLocaleString();
}

export function fmtBytes(n) {
	if (typeof n !== 'number') return '–';
	const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	while (n >= 1024 && i < u.length - 1) {
		n /= 1024;
		i++;
	}
	return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}

export function stateBadge(state) {
	return el('span', { class: 'state ' + state, text: state });
}

// Progress as a bar in the state's colour and a percentage: only a completed
// experiment reads 100%; a canceled, killed or failed one shows the work done.
export function progressView(progress, state, label) {
	const p = Math.min(Math.max(progress || 0, 0), 1);
	const pct = state === 'COMPLETED' ? Math.round(p * 100) : Math.floor(p * 100);
	return el('span', { class: 'progress-view' },
		el('progress', { max: '1', value: String(p), class: 'state-bar ' + state, 'aria-label': label }),
		` ${pct}%`);
}

// Why a trial ended, from its end_reason and exit_code (either may be absent).
export function endText(t) {
	const parts = [];
	if (t.end_reason) parts.push(t.end_reason);
	if (t.exit_code !== null && t.exit_code !== undefined) parts.push(`exit code ${t.exit_code}`);
	return parts.join(', ');
}

export function announce(msg) {
	const s = document.getElementById('status');
	if (s) s.textContent = msg;
}

// A wrapper that scrolls a wide table sideways and can be reached by keyboard.
export function tableWrap(label, table) {
	return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, table);
}

// Ask before acting; resolves true on Confirm. Uses the page's <dialog>.
export function confirmAction(text, okLabel = 'Confirm') {
	const d = document.getElementById('confirm');
	document.getElementById('confirm-text').textContent = text;
	document.getElementById('confirm-ok').textContent = okLabel;
	const back = document.activeElement;
	return new Promise((resolve) => {
		d.addEventListener(
			'close',
			() => {
				if (back && back.focus) back.focus();
				resolve(d.returnValue === 'ok');
			},
			{ once: true },
		);
		d.returnValue = 'cancel';
		d.showModal();
		document.getElementById('confirm-ok').focus();
	});
}

export function hparamText(v) {
	if (v !== null && typeof v === 'object') return JSON.stringify(v);
	return fmtNum(v);
}

export function errorBox(err) {
	return el('p', { class: 'error', role: 'alert', text: err && err.message ? err.message : String(err) });
}

function focusKey(e) {
	return [e.tagName, e.id, e.getAttribute('href'), e.dataset.sort, e.textContent].join('|');
}

// Run fn, which re-renders part of container; if the keyboard focus was in
// that part, put it back on the equivalent element so polling never steals it.
export function keepFocus(container, fn) {
	const a = document.activeElement;
	const key = a && a !== document.body && container.contains(a) ? focusKey(a) : null;
	fn();
	if (!key || container.contains(a)) return;
	for (const e of container.querySelectorAll('a, button, input, select, [tabindex]')) {
		if (focusKey(e) === key) {
			e.focus({ preventScroll: true });
			return;
		}
	}
}
