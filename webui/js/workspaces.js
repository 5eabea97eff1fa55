// SPDX-License-Identifier: GPL-2.0-or-later
// Workspaces page (#/workspaces): every workspace the user may see with its
// counts, its projects with theirs, and each project's experiments (links).
import { api } from './api.js';
import { el, errorBox, stateBadge, tableWrap } from './util.js';

function projectTable(ws, projects, exps) {
	const rows = projects.map((p) => {
		const mine = exps.filter((x) => x.project_id === p.id);
		return el('tr', { 'data-project': String(p.id) },
			el('td', { text: p.name }),
			el('td', { class: 'num', text: String(p.num_experiments ?? mine.length) }),
			el('td', { class: 'num', text: String(p.num_active_experiments ?? 0) }),
			el('td', {}, mine.length ? el('ul', { class: 'plain' }, mine.map((x) => el('li', {},
				el('a', { href: `#/experiments/${x.id}`, text: `${x.id} ${x.name}` }), ' ', stateBadge(x.state))))
				: el('span', { class: 'muted', text: 'none' })));
	});
	return tableWrap(`Projects of ${ws.name}`, el('table', { class: 'projects', 'data-workspace': String(ws.id) },
		el('caption', { class: 'sr-only', text: `Projects of ${ws.name}` }),
		el('thead', {}, el('tr', {}, ['Project', 'Experiments', 'Active', 'Experiment list'].map((h) => el('th', { scope: 'col', text: h })))),
		el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: '4', class: 'muted', text: 'No projects.' })))));
}

export async function render(ctx) {
	const body = el('div', { id: 'workspaces' });
	ctx.main.append(el('h1', { text: 'Workspaces' }), body);
	try {
		const [wss, exps] = await Promise.all([
			api('/workspaces', { signal: ctx.signal }),
			api('/experiments?limit=1000&archived=1', { signal: ctx.signal }),
		]);
		const parts = [];
		for (const ws of wss.workspaces) {
			const projects = await api(`/workspaces/${ws.id}/projects`, { signal: ctx.signal });
			parts.push(el('section', { class: 'workspace', 'data-id': String(ws.id) },
				el('h2', { text: `${ws.name}${ws.archived ? ' (archived)' : ''}` }),
				el('p', { class: 'counts', text: `${ws.num_projects} projects, ${ws.num_experiments} experiments, ${ws.num_active_experiments ?? 0} active` }),
				projectTable(ws, projects.projects, exps.experiments)));
		}
		body.replaceChildren(...(parts.length ? parts : [el('p', { class: 'muted', text: 'No workspaces.' })]));
	} catch (e) {
		if (e.name !== 'AbortError') body.replaceChildren(errorBox(e));
	}
}
