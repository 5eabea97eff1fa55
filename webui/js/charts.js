// SPDX-License-Identifier: GPL-2.0-or-later
// Chart.js (Debian's libjs-chart.js, global `Chart`) wrappers: learning
// curves, parallel coordinates drawn as a line chart over normalized axes,
// and scatter plots of one hyperparameter against the metric. Charts update
// in place so polling does not flicker or lose the legend's state.
import { fmtNum, hparamText } from './util.js';

const PALETTE = ['#1d4f91', '#d1495b', '#00798c', '#edae49', '#66a182', '#8d6a9f', '#2e4057',
	'#c3423f', '#5bc0eb', '#9bc53d', '#e55934', '#fa7921'];

export function color(i) {
	return PALETTE[i % PALETTE.length];
}

const base = () => ({
	animation: false,
	responsive: true,
	maintainAspectRatio: false,
	interaction: { mode: 'nearest', intersect: false },
	plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
});

// Replace a chart's datasets (reusing objects of the same label) and redraw.
function setDatasets(chart, datasets) {
	const old = new Map(chart.data.datasets.map((d) => [d.label, d]));
	chart.data.datasets = datasets.map((d) => {
		const o = old.get(d.label);
		if (!o) return d;
		Object.assign(o, d);
		return o;
	});
	chart.update('none');
}

// Line chart of series [{label, points: [{x, y}]}] against steps.
export function curves(canvas, series, yTitle) {
	const datasets = series.map((s, i) => ({
		label: s.label,
		data: s.points,
		borderColor: color(s.colorIndex ?? i),
		backgroundColor: color(s.colorIndex ?? i),
		pointRadius: 2,
		borderWidth: 1.5,
		tension: 0,
	}));
	let chart = window.Chart.getChart(canvas);
	if (chart) {
		chart.options.scales.y.title.text = yTitle;
		setDatasets(chart, datasets);
		return chart;
	}
	const opts = base();
	opts.scales = {
		x: { type: 'linear', ticks: { precision: 0 }, title: { display: true, text: 'steps completed (batches)' } },
		y: { title: { display: true, text: yTitle } },
	};
	return new window.Chart(canvas, { type: 'line', data: { datasets }, options: opts });
}

// axes: [{name, log, categories?}] (the last one is the metric);
// rows: [{label, values: [...], colorIndex}]. Each axis is scaled to 0..1.
export function parallel(canvas, axes, rows) {
	const scale = axes.map((ax, j) => {
		if (ax.categories) {
			const n = Math.max(ax.categories.length - 1, 1);
			return (v) => ax.categories.indexOf(JSON.stringify(v)) / n;
		}
		const f = (v) => (ax.log && v > 0 ? Math.log10(v) : v);
		const vals = rows.map((r) => f(r.values[j])).filter((v) => typeof v === 'number' && isFinite(v));
		const lo = Math.min(...vals), hi = Math.max(...vals);
		return (v) => (hi > lo ? (f(v) - lo) / (hi - lo) : 0.5);
	});
	const datasets = rows.map((r) => ({
		label: r.label,
		data: r.values.map((v, j) => scale[j](v)),
		raw: r.values,
		borderColor: color(r.colorIndex),
		backgroundColor: color(r.colorIndex),
		pointRadius: 3,
		borderWidth: 1.5,
		tension: 0,
	}));
	let chart = window.Chart.getChart(canvas);
	if (chart) {
		chart.data.labels = axes.map((a) => a.name);
		setDatasets(chart, datasets);
		return chart;
	}
	const opts = base();
	opts.scales = {
		x: { type: 'category', grid: { color: '#9aa4ae' } },
		y: { min: -0.05, max: 1.05, ticks: { display: false }, title: { display: true, text: 'low → high (per axis)' } },
	};
	opts.plugins.tooltip = {
		callbacks: {
			label: (c) => `${c.dataset.label}: ${hparamText(c.dataset.raw[c.dataIndex])}`,
		},
	};
	return new window.Chart(canvas, { type: 'line', data: { labels: axes.map((a) => a.name), datasets }, options: opts });
}

// Scatter of points [{x, y, label}] with x the hyperparameter, y the metric.
export function scatter(canvas, xTitle, yTitle, points, log, categories, integer) {
	const datasets = [{
		label: `${yTitle} by ${xTitle}`,
		data: points.map((p) => ({ x: categories ? categories.indexOf(JSON.stringify(p.x)) : p.x, y: p.y, trial: p.label })),
		backgroundColor: points.map((p) => color(p.colorIndex)),
		pointRadius: 4,
	}];
	let chart = window.Chart.getChart(canvas);
	if (chart) {
		setDatasets(chart, datasets);
		return chart;
	}
	const opts = base();
	opts.plugins.legend = { display: false };
	opts.scales = {
		x: {
			type: log ? 'logarithmic' : 'linear',
			title: { display: true, text: xTitle },
			ticks: categories ? { stepSize: 1, callback: (v) => (categories[v] !== undefined ? hparamText(JSON.parse(categories[v])) : '') }
				: integer ? { precision: 0 } : {},
		},
		y: { title: { display: true, text: yTitle } },
	};
	opts.plugins.tooltip = { callbacks: { label: (c) => `${c.raw.trial}: ${fmtNum(c.raw.y)}` } };
	return new window.Chart(canvas, { type: 'scatter', data: { datasets }, options: opts });
}
