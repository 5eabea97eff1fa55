// SPDX-License-Identifier: GPL-2.0-or-later
// Cluster page: the master, nodes and slots (/agents), resource pools and
// the running allocations (active trials of every experiment), polled.
import { api } from './api.js';
import { el, errorBox, fmtTime, keepFocus, stateBadge, tableWrap } from './util.js';

const POLL_MS = 5000;
const LIVE_STATES = ['ACTIVE', 'STOPPING_COMPLETED', 'STOPPING_CANCELED', 'STOPPING_KILLED', 'STOPPING_ERROR'];

function table(id, label, heads, rows, empty) {
	return tableWrap(label, el('table', { id },
		el('caption', { class: 'sr-only', text: label }),
		el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col', text: h })))),
		el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: String(heads.length), class: 'muted', text: empty })))));
}

export async function render(ctx) {
	const body = el('div');
	ctx.main.append(el('h1', { text: 'Cluster' }), body);
	await ctx.every(POLL_MS, async () => {
		let master, agents, pools, exps, users;
		try {
			// Only experiments that can hold slots, by state on the master: a
			// plain first page would miss them among thousands of others.
			const byState = LIVE_STATES.map((st) => api(`/experiments?limit=1000&archived=1&state=${st}`, { signal: ctx.signal }));
			[master, agents, pools, users, ...exps] = await Promise.all([
				api('/master', { signal: ctx.signal }),
				api('/agents', { signal: ctx.signal }),
				api('/resource-pools', { signal: ctx.signal }),
				api('/users', { signal: ctx.signal }).catch(() => ({ users: [] })),
				...byState,
			]);
			exps = { experiments: exps.flatMap((r) => r.experiments) };
		} catch (e) {
			if (e.name !== 'AbortError') body.replaceChildren(errorBox(e));
			return;
		}
		const names = new Map(users.users.map((u) => [u.id, u.username]));
		// A paused experiment's trials keep their state but hold no slots.
		const live = exps.experiments.filter((x) => x.trials_running > 0 && (x.state === 'ACTIVE' || x.state.startsWith('STOPPING')));
		const trialLists = await Promise.all(live.map((x) => api(`/experiments/${x.id}/trials`, { signal: ctx.signal })
			.then((r) => r.trials.filter((t) => !['COMPLETED', 'CANCELED', 'ERROR', 'PAUSED'].includes(t.state)).map((t) => [x, t]))
			.catch(() => [])));
		const allocs = trialLists.flat().sort(([x, t], [y, u]) => x.id - y.id || t.id - u.id);
		const total = agents.agents.reduce((s, a) => s + (a.slots || 0), 0);
		const used = agents.agents.reduce((s, a) => s + (a.slots_used || 0), 0);
		keepFocus(body, () => body.replaceChildren(
			el('dl', { class: 'summary', id: 'cluster-summary' },
				el('div', {}, el('dt', { text: 'Resource manager' }), el('dd', { text: master.resource_manager })),
				el('div', {}, el('dt', { text: 'Slots in use' }), el('dd', { id: 'slots-used', text: `${used} of ${total}` })),
				el('div', {}, el('dt', { text: 'Master version' }), el('dd', { text: master.version })),
				el('div', {}, el('dt', { text: 'Up since' }), el('dd', { text: fmtTime(master.started_at) }))),
			el('h2', { text: 'Nodes' }),
			table('cluster-nodes', 'Nodes', ['Node', 'Slots', 'Used', 'Free', 'Pool'], agents.agents.map((a) => el('tr', {},
				el('td', { text: a.name }), el('td', { class: 'num', text: String(a.slots) }),
				el('td', { class: 'num', text: String(a.slots_used ?? '–') }),
				el('td', { class: 'num', text: a.slots_used === undefined ? '–' : String(a.slots - a.slots_used) }),
				el('td', { text: a.resource_pool || 'default' }))), 'No nodes.'),
			el('h2', { text: 'Resource pools' }),
			table('cluster-pools', 'Resource pools', ['Pool', 'Slots', 'Resource manager'], pools.resource_pools.map((p) => el('tr', {},
				el('td', { text: p.name }), el('td', { class: 'num', text: String(p.slots) }), el('td', { text: p.resource_manager }))), 'No pools.'),
			el('h2', { text: 'Running allocations' }),
			table('cluster-allocations', 'Running allocations', ['Experiment', 'Trial', 'Array task', 'State', 'Owner', 'Started'],
				allocs.map(([x, t]) => el('tr', {},
					el('td', {}, el('a', { href: `#/experiments/${x.id}`, text: `${x.id} ${x.name}` })),
					el('td', {}, el('a', { href: `#/trials/${t.id}`, text: String(t.id) })),
					el('td', { class: 'num', text: String(t.array_task) }),
					el('td', {}, stateBadge(t.state)),
					el('td', { text: names.get(x.owner_id) || `user ${x.owner_id}` }),
					el('td', { text: fmtTime(t.created_at) }))), 'Nothing is running.')));
	});
}
