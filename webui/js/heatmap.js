// SPDX-License-Identifier: GPL-2.0-or-later
// Heat map of two hyperparameters against the searcher metric, drawn on a
// canvas without Chart.js (which has no matrix chart): each axis is cut into
// bins (one per choice of a categorical hyperparameter, six equal steps
// otherwise, on a log scale for a log one), and each cell is coloured by the
// best metric of the trials in it (dark = better). The canvas carries what it
// shows in data-cells (non-empty cells) and data-trials (trials placed).
const BINS = 6;

function binner(values, conf) {
	if (conf && conf.type !== 'categorical' && ['int', 'double', 'log'].includes(conf.type)) {
		const f = conf.type === 'log' ? Math.log10 : (v) => v;
		const xs = values.map(f);
		const lo = Math.min(...xs);
		const hi = Math.max(...xs);
		const span = hi - lo || 1;
		const back = conf.type === 'log' ? (v) => 10 ** v : (v) => v;
		const labels = [...Array(BINS).keys()].map((i) => Number(back(lo + (span * (i + 0.5)) / BINS).toPrecision(2)).toString());
		return { n: BINS, labels, of: (v) => Math.min(BINS - 1, Math.floor(((f(v) - lo) / span) * BINS)) };
	}
	const cats = [...new Set([...(conf && Array.isArray(conf.vals) ? conf.vals : []), ...values].map((v) => JSON.stringify(v)))];
	return { n: cats.length, labels: cats, of: (v) => cats.indexOf(JSON.stringify(v)) };
}

// trials: [{hparams, best_metric}] with a numeric best_metric.
export function heatmap(canvas, trials, xName, yName, xConf, yConf, metricName, smallerIsBetter) {
	const ctx = canvas.getContext('2d');
	const w = canvas.width;
	const h = canvas.height;
	ctx.clearRect(0, 0, w, h);
	const bx = binner(trials.map((t) => t.hparams[xName]), xConf);
	const by = binner(trials.map((t) => t.hparams[yName]), yConf);
	const cells = new Map();
	for (const t of trials) {
		const k = `${bx.of(t.hparams[xName])},${by.of(t.hparams[yName])}`;
		const c = cells.get(k);
		const better = !c || (smallerIsBetter ? t.best_metric < c.best : t.best_metric > c.best);
		cells.set(k, { best: better ? t.best_metric : c.best, n: (c ? c.n : 0) + 1 });
	}
	const vals = [...cells.values()].map((c) => c.best);
	const lo = Math.min(...vals);
	const hi = Math.max(...vals);
	const left = 70;
	const bottom = 40;
	const cw = (w - left - 10) / bx.n;
	const ch = (h - bottom - 10) / by.n;
	ctx.font = '11px sans-serif';
	ctx.fillStyle = '#333';
	for (const [k, c] of cells) {
		const [i, j] = k.split(',').map(Number);
		let q = hi === lo ? 1 : (c.best - lo) / (hi - lo);
		if (!smallerIsBetter) q = 1 - q; // q: 0 = best
		ctx.fillStyle = `hsl(${220 - q * 170}, 70%, ${30 + q * 55}%)`;
		ctx.fillRect(left + i * cw, 10 + (by.n - 1 - j) * ch, cw - 1, ch - 1);
	}
	ctx.fillStyle = '#333';
	bx.labels.forEach((l, i) => ctx.fillText(l.slice(0, 8), left + i * cw + 2, h - bottom + 14));
	by.labels.forEach((l, j) => ctx.fillText(l.slice(0, 9), 2, 10 + (by.n - 1 - j) * ch + ch / 2));
	ctx.fillText(`x: ${xName}, y: ${yName}; colour: best ${metricName} (dark = better, ${Number(lo.toPrecision(3))} to ${Number(hi.toPrecision(3))})`, left, h - 6);
	canvas.dataset.cells = String(cells.size);
	canvas.dataset.trials = String([...cells.values()].reduce((s, c) => s + c.n, 0));
	canvas.setAttribute('aria-label', `Heat map of ${yName} (rows) against ${xName} (columns), coloured by the best ${metricName}: ${cells.size} cells, ${trials.length} trials`);
}
