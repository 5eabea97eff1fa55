// SPDX-License-Identifier: GPL-2.0-or-later
// The single-page shell (one login for all tabs: the master's session
// cookie; see api.js): hash routes (#/experiments, #/experiments/ID,
// #/trials/ID, #/cluster, #/queue, #/login) render into <main>. Each render gets a
// context whose timers and requests are cancelled when the route changes and
// whose polling pauses while the tab is hidden.
import { currentUser, loadMe, logout } from './api.js';
import { errorBox } from './util.js';
import * as loginPage from './login.js';
import * as experimentsPage from './experiments.js';
import * as experimentPage from './experiment.js';
import * as trialPage from './trial.js';
import * as clusterPage from './cluster.js';
import { workspacesPage, modelsPage } from './collab.js';
import * as queuePage from './queue.js';
import * as mePage from './me.js';
import * as comparePage from './compare.js';
import * as tasksPage from './tasks.js';

const routes = [
	[/^#\/login$/, loginPage, 'login', true],
	[/^#\/experiments(?:\?.*)?$/, experimentsPage, 'experiments'],
	[/^#\/experiments\/(\d+)(?:\?.*)?$/, experimentPage, 'experiments'],
	[/^#\/compare\?.*$/, comparePage, 'experiments'],
	[/^#\/trials\/(\d+)$/, trialPage, 'experiments'],
	[/^#\/cluster$/, clusterPage, 'cluster'],
	[/^#\/workspaces$/, workspacesPage, 'workspaces'], [/^#\/models(?:\?.*)?$/, modelsPage, 'models'],
	[/^#\/queue$/, queuePage, 'queue'],
	[/^#\/me$/, mePage, ''],
	[/^#\/tasks(?:\?.*)?$/, tasksPage, 'tasks'],
	[/^#\/tasks\/(\d+)$/, { render: tasksPage.renderTask }, 'tasks'],
];

let current = null;

function newContext(main) {
	const ctl = new AbortController();
	const timers = [];
	const leave = [];
	return {
		main,
		signal: ctl.signal,
		me: currentUser(),
		// Run fn now and every ms while the page is shown (never overlapping);
		// a hidden tab does not poll, and polls at once when shown again.
		every(ms, fn) {
			let busy = false;
			const tick = async () => {
				if (busy || ctl.signal.aborted || document.visibilityState === 'hidden') return;
				busy = true;
				try {
					await fn();
				} catch (e) {
					if (e.name !== 'AbortError') console.warn(e);
				} finally {
					busy = false;
				}
			};
			timers.push(setInterval(tick, ms));
			const shown = () => {
				if (document.visibilityState === 'visible') tick();
			};
			document.addEventListener('visibilitychange', shown);
			leave.push(() => document.removeEventListener('visibilitychange', shown));
			return tick();
		},
		// Resolves when the tab is visible (at once if it is) or the page is left.
		whenVisible() {
			return new Promise((resolve) => {
				if (document.visibilityState !== 'hidden' || ctl.signal.aborted) return resolve();
				const f = () => {
					if (document.visibilityState === 'hidden' && !ctl.signal.aborted) return;
					document.removeEventListener('visibilitychange', f);
					resolve();
				};
				document.addEventListener('visibilitychange', f);
				ctl.signal.addEventListener('abort', f, { once: true });
			});
		},
		onLeave(fn) {
			leave.push(fn);
		},
		get alive() {
			return !ctl.signal.aborted;
		},
		close() {
			ctl.abort();
			timers.forEach(clearInterval);
			leave.forEach((f) => f());
		},
	};
}

function showUser() {
	const me = location.hash === '#/login' ? null : currentUser(); // no logout button on the login page
	document.getElementById('who').hidden = !me;
	document.getElementById('who-name').textContent = me ? `${me.username}${me.admin ? ' (admin)' : ''}` : '';
}

// Navigations counted, so that a route() still waiting for the user or for
// its page's first data does not take over from a newer one.
let routeSeq = 0;

async function route() {
	const seq = ++routeSeq;
	let hash = location.hash || '#/experiments';
	if (!currentUser() && hash !== '#/login') await loadMe().catch(() => null);
	if (seq !== routeSeq) return;
	if (!currentUser() && hash !== '#/login') {
		sessionStorage.setItem('det.after_login', hash);
		location.hash = '#/login';
		return;
	}
	let page = null;
	let params = null;
	let nav = '';
	for (const [re, mod, n] of routes) {
		const m = re.exec(hash);
		if (m) {
			page = mod;
			params = m.slice(1);
			nav = n;
			break;
		}
	}
	if (!page) {
		location.hash = '#/experiments';
		return;
	}
	if (current) current.close();
	const main = document.getElementById('main');
	main.replaceChildren();
	current = newContext(main);
	document.querySelectorAll('[data-nav]').forEach((a) => {
		if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	});
	showUser();
	try {
		await page.render(current, ...params);
	} catch (e) {
		if (e.name !== 'AbortError') main.append(errorBox(e));
	}
	if (seq !== routeSeq) return;
	const h1 = main.querySelector('h1');
	if (h1) document.title = h1.textContent + ' · det-slurm';
	main.dataset.ready = hash;
}

window.addEventListener('hashchange', route);
document.getElementById('logout').addEventListener('click', async () => {
	await logout().catch(() => {});
	location.hash = '#/login';
	showUser();
});

// Chart.js is a classic deferred script; modules run after it, but wait to be sure.
function chartReady() {
	return new Promise((resolve) => {
		if (window.Chart) resolve();
		else window.addEventListener('load', () => resolve(), { once: true });
	});
}

chartReady().then(route);
