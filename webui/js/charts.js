// SPDX-License-Identifier: GPL-2.0-or-later
// Chart.js (Debian's libjs-chart.js, global `Chart`) wrappers: learning
// curves, a grid of one chart per metric (each with its own y axis, EMA
// smoothing over a faint raw line, hover across trials, click to open a
// trial), parallel coordinates drawn as a line chart over normalized axes,
// and scatter plots of one hyperparameter against the metric. Charts update
// in place so polling does not flicker or lose the legend's state.
import { fmtNum, hparamText } from './util.js';

// Distinct hues for any number of trials: successive golden-angle steps
// around the HSL circle never land on the same hue, and alternating
// lightness separates neighbours further.
export function color(i, alpha = 1) {
	const hue = (i * 137.508) % 360;
	return `hsla(${hue.toFixed(1)}, 70%, ${i % 2 ? 38 : 50}%, ${alpha})`;
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
// rows: [{label, values: [...], colorIndex}]. Each axis is scaled to 0..1 and
// labelled with its own values (low at the bottom, high at the top). Drag
// along an axis to brush a range: trials outside every brushed range fade;
// a click on an axis clears its brush. chart.$selected lists the labels kept;
// chart.$onBrush(chart), when set, is called after the user changes a brush.
export function parallel(canvas, axes, rows) {
	const ticks = [];
	const scale = axes.map((ax, j) => {
		if (ax.categories) {
			const n = Math.max(ax.categories.length - 1, 1);
			ticks[j] = ax.categories.map((c, i) => ({ at: ax.categories.length > 1 ? i / n : 0.5, text: hparamText(JSON.parse(c)) }));
			return (v) => (ax.categories.length > 1 ? ax.categories.indexOf(JSON.stringify(v)) / n : 0.5);
		}
		const f = (v) => (ax.log && v > 0 ? Math.log10(v) : v);
		const vals = rows.map((r) => f(r.values[j])).filter((v) => typeof v === 'number' && isFinite(v));
		const lo = Math.min(...vals), hi = Math.max(...vals);
		const back = (x) => (ax.log ? 10 ** x : x);
		ticks[j] = !vals.length ? [] : hi > lo
			? [{ at: 0, text: fmtNum(back(lo)) }, { at: 0.5, text: fmtNum(back((lo + hi) / 2)) }, { at: 1, text: fmtNum(back(hi)) }]
			: [{ at: 0.5, text: fmtNum(back(lo)) }];
		return (v) => (hi > lo ? (f(v) - lo) / (hi - lo) : 0.5);
	});
	const datasets = rows.map((r) => ({
		label: r.label,
		data: r.values.map((v, j) => scale[j](v)),
		raw: r.values,
		colorIndex: r.colorIndex,
		borderColor: color(r.colorIndex),
		backgroundColor: color(r.colorIndex),
		pointRadius: 3,
		borderWidth: 1.5,
		tension: 0,
	}));
	let chart = window.Chart.getChart(canvas);
	if (chart) {
		chart.data.labels = axes.map((a) => a.name);
		chart.$ticks = ticks;
		setDatasets(chart, datasets);
		applyBrush(chart);
		return chart;
	}
	const opts = base();
	opts.layout = { padding: { left: 8, right: 8 } };
	opts.scales = {
		x: { type: 'category', grid: { color: '#9aa4ae' } },
		y: { min: -0.05, max: 1.05, ticks: { display: false }, title: { display: true, text: 'low → high (per axis)' } },
	};
	opts.plugins.tooltip = {
		callbacks: {
			label: (c) => `${c.dataset.label}: ${hparamText(c.dataset.raw[c.dataIndex])}`,
		},
	};
	chart = new window.Chart(canvas, {
		type: 'line', data: { labels: axes.map((a) => a.name), datasets }, options: opts, plugins: [parallelAxes],
	});
	chart.$ticks = ticks;
	chart.$brush = new Map(); // axis index -> [lo, hi] in 0..1
	brushable(chart);
	applyBrush(chart);
	return chart;
}

// Fade the trials outside any brushed range; record the kept labels.
function applyBrush(chart) {
	const brush = chart.$brush || new Map();
	chart.$selected = [];
	for (const d of chart.data.datasets) {
		const keep = [...brush].every(([j, [lo, hi]]) => d.data[j] >= lo && d.data[j] <= hi);
		d.borderColor = color(d.colorIndex, keep ? 1 : 0.12);
		d.backgroundColor = d.borderColor;
		if (keep) chart.$selected.push(d.label);
	}
	chart.update('none');
}

// Per-axis value labels and brushes (drawn over the chart).
const parallelAxes = {
	id: 'parallelAxes',
	afterDraw(chart) {
		const { ctx, scales: { x, y } } = chart;
		ctx.save();
		ctx.font = '11px system-ui, sans-serif';
		ctx.textBaseline = 'middle';
		(chart.$ticks || []).forEach((tk, j) => {
			const px = x.getPixelForValue(j);
			const last = j === chart.$ticks.length - 1;
			ctx.textAlign = last ? 'right' : 'left';
			for (const t of tk) {
				ctx.fillStyle = '#57606a';
				ctx.fillText(t.text, px + (last ? -4 : 4), y.getPixelForValue(t.at));
			}
		});
		const drawBox = (j, lo, hi) => {
			const px = x.getPixelForValue(j);
			ctx.fillStyle = 'rgba(29, 79, 145, 0.18)';
			ctx.strokeStyle = 'rgba(29, 79, 145, 0.8)';
			const top = y.getPixelForValue(hi), h = y.getPixelForValue(lo) - top;
			ctx.fillRect(px - 7, top, 14, h);
			ctx.strokeRect(px - 7, top, 14, h);
		};
		for (const [j, [lo, hi]] of chart.$brush || []) drawBox(j, lo, hi);
		if (chart.$drag) drawBox(chart.$drag.j, Math.min(chart.$drag.a, chart.$drag.b), Math.max(chart.$drag.a, chart.$drag.b));
		ctx.restore();
	},
};

// Brushing by pointer events on the canvas itself (positions in CSS pixels,
// as Chart.js's scales use).
function brushable(chart) {
	const at = (e) => {
		const r = chart.canvas.getBoundingClientRect();
		return { x: e.clientX - r.left, v: Math.min(1.05, Math.max(-0.05, chart.scales.y.getValueForPixel(e.clientY - r.top))) };
	};
	chart.canvas.addEventListener('pointerdown', (e) => {
		const p = at(e);
		for (let j = 0; j < chart.data.labels.length; j++) {
			if (Math.abs(chart.scales.x.getPixelForValue(j) - p.x) <= 12) {
				chart.$drag = { j, a: p.v, b: p.v };
				chart.canvas.setPointerCapture(e.pointerId);
				break;
			}
		}
	});
	chart.canvas.addEventListener('pointermove', (e) => {
		if (!chart.$drag) return;
		chart.$drag.b = at(e).v;
		chart.draw();
	});
	chart.canvas.addEventListener('pointerup', (e) => {
		if (!chart.$drag) return;
		chart.$drag.b = at(e).v;
		const { j, a, b } = chart.$drag;
		chart.$drag = null;
		if (Math.abs(a - b) < 0.02) chart.$brush.delete(j);
		else chart.$brush.set(j, [Math.min(a, b), Math.max(a, b)]);
		applyBrush(chart);
		if (chart.$onBrush) chart.$onBrush(chart);
	});
}

// Remove every brush of a parallel-coordinates chart (on canvas).
export function clearBrush(canvas) {
	const chart = window.Chart.getChart(canvas);
	if (!chart || !chart.$brush) return;
	chart.$brush.clear();
	applyBrush(chart);
	if (chart.$onBrush) chart.$onBrush(chart);
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

// Exponential moving average with TensorBoard's debiasing; alpha in [0, 1).
export function ema(points, alpha) {
	if (!alpha) return points;
	let acc = 0;
	let n = 0;
	return points.map((p) => {
		acc = acc * alpha + (1 - alpha) * p.y;
		n++;
		return { x: p.x, y: acc / (1 - alpha ** n) };
	});
}

function metricChart(canvas, m, opts, resetButton) {
	const datasets = [];
	for (const l of m.lines) {
		const pts = opts.log ? l.points.filter((p) => p.y > 0) : l.points;
		const main = {
			label: l.label, trialId: l.trialId, data: ema(pts, opts.smoothing),
			borderColor: color(l.colorIndex), backgroundColor: color(l.colorIndex),
			pointRadius: pts.length > 60 ? 0 : 2, pointHitRadius: 6, borderWidth: 1.8, tension: 0,
		};
		if (opts.smoothing) {
			datasets.push({
				label: l.label + ' (raw)', raw: true, trialId: l.trialId, data: pts,
				borderColor: color(l.colorIndex, 0.25), backgroundColor: color(l.colorIndex, 0.25),
				pointRadius: 0, pointHitRadius: 0, borderWidth: 1, tension: 0,
			});
		}
		datasets.push(main);
	}
	let chart = window.Chart.getChart(canvas);
	if (chart) {
		chart.options.scales.y.type = opts.log ? 'logarithmic' : 'linear';
		// Another x unit: the zoomed range means nothing there.
		if (chart.options.scales.x.title.text !== opts.xTitle) setZoom(chart, null);
		chart.options.scales.x.title.text = opts.xTitle;
		setDatasets(chart, datasets);
		return chart;
	}
	const o = base();
	o.interaction = { mode: 'x', intersect: false };
	o.plugins.legend = { display: false };
	o.plugins.title = { display: false };
	o.plugins.tooltip = {
		filter: (item) => !item.dataset.raw,
		itemSort: (a, b) => b.parsed.y - a.parsed.y,
		callbacks: {
			title: (items) => (items.length ? `${opts.xTitle}: ${fmtNum(items[0].parsed.x)}` : ''),
			label: (c) => `${c.dataset.label}: ${fmtNum(c.parsed.y)}`,
		},
	};
	o.scales = {
		x: { type: 'linear', title: { display: true, text: opts.xTitle } },
		y: { type: opts.log ? 'logarithmic' : 'linear', title: { display: true, text: m.name } },
	};
	o.onClick = (evt, _els, c) => {
		if (c.$dragged) { // the end of a zoom drag, not a click
			c.$dragged = false;
			return;
		}
		const hit = c.getElementsAtEventForMode(evt, 'nearest', { intersect: false }, true)
			.find((e) => !c.data.datasets[e.datasetIndex].raw);
		if (hit && opts.onOpen) opts.onOpen(c.data.datasets[hit.datasetIndex].trialId);
	};
	o.onHover = (evt, els, c) => {
		c.canvas.style.cursor = els.length && opts.onOpen ? 'pointer' : 'default';
	};
	chart = new window.Chart(canvas, { type: 'line', data: { datasets }, options: o, plugins: [zoomBand] });
	zoomable(chart, resetButton);
	return chart;
}

// ---- x zoom of a learning-curve chart: drag across it (a pointer move of
// more than 5 px; less is a click), + / - on the focused chart zoom around
// the centre, Escape or its Reset button goes back. The range is kept in the
// chart's options, so redraws by the page's polls keep it.

const DRAG_PX = 5;

// Zoom chart's x axis to [min, max] (null: back to the data's range).
function setZoom(chart, range) {
	const x = chart.options.scales.x;
	if (range) {
		x.min = range[0];
		x.max = range[1];
	} else {
		delete x.min;
		delete x.max;
	}
	chart.$zoomed = !!range;
	if (chart.$resetButton) chart.$resetButton.hidden = !range;
	chart.update('none');
}

// The band being dragged, drawn over the chart.
const zoomBand = {
	id: 'zoomBand',
	afterDraw(chart) {
		const d = chart.$zoomDrag;
		if (!d || Math.abs(d.b - d.a) <= DRAG_PX) return;
		const { ctx, chartArea: a } = chart;
		ctx.save();
		ctx.fillStyle = 'rgba(29, 79, 145, 0.15)';
		ctx.strokeStyle = 'rgba(29, 79, 145, 0.8)';
		const left = Math.max(a.left, Math.min(d.a, d.b)), right = Math.min(a.right, Math.max(d.a, d.b));
		ctx.fillRect(left, a.top, right - left, a.bottom - a.top);
		ctx.strokeRect(left, a.top, right - left, a.bottom - a.top);
		ctx.restore();
	},
};

function zoomable(chart, resetButton) {
	const canvas = chart.canvas;
	chart.$resetButton = resetButton || null;
	if (resetButton) {
		resetButton.hidden = true;
		resetButton.addEventListener('click', () => {
			setZoom(chart, null);
			canvas.focus();
		});
	}
	canvas.tabIndex = 0;
	const px = (e) => e.clientX - canvas.getBoundingClientRect().left;
	canvas.addEventListener('pointerdown', (e) => {
		if (e.button !== 0) return;
		chart.$dragged = false;
		chart.$zoomDrag = { a: px(e), b: px(e), id: e.pointerId };
	});
	canvas.addEventListener('pointermove', (e) => {
		const d = chart.$zoomDrag;
		if (!d || d.id !== e.pointerId) return;
		d.b = px(e);
		if (Math.abs(d.b - d.a) > DRAG_PX) {
			if (!canvas.hasPointerCapture(e.pointerId)) canvas.setPointerCapture(e.pointerId);
			chart.draw();
		}
	});
	const end = (e, cancel) => {
		const d = chart.$zoomDrag;
		if (!d || d.id !== e.pointerId) return;
		chart.$zoomDrag = null;
		if (!cancel) d.b = px(e);
		if (cancel || Math.abs(d.b - d.a) <= DRAG_PX) {
			chart.draw();
			return;
		}
		chart.$dragged = true;
		const a = chart.chartArea, x = chart.scales.x;
		const clamp = (v) => Math.min(a.right, Math.max(a.left, v));
		const lo = x.getValueForPixel(clamp(Math.min(d.a, d.b))), hi = x.getValueForPixel(clamp(Math.max(d.a, d.b)));
		if (hi > lo) setZoom(chart, [lo, hi]);
		else chart.draw();
	};
	canvas.addEventListener('pointerup', (e) => end(e, false));
	canvas.addEventListener('pointercancel', (e) => end(e, true));
	canvas.addEventListener('keydown', (e) => {
		const x = chart.scales.x;
		if (e.key === 'Escape' && chart.$zoomed) setZoom(chart, null);
		else if (['+', '=', '-', '_'].includes(e.key) && x.max > x.min) {
			const mid = (x.min + x.max) / 2, half = (x.max - x.min) / 2;
			const f = e.key === '+' || e.key === '=' ? 0.5 : 2;
			setZoom(chart, [mid - half * f, mid + half * f]);
		} else return;
		e.preventDefault();
	});
}

// A grid of one chart per metric in container: metrics are
// [{key: "group/name", group, name, lines: [{label, trialId, colorIndex,
// points: [{x, y}]}]}] sorted as they should appear; opts {log, smoothing,
// xTitle, onOpen(trialId)}. Boxes are reused by key; charts update in place.
export function metricGrid(container, metrics, opts) {
	const boxes = new Map([...container.children].map((b) => [b.dataset.metric, b]));
	const keep = [];
	for (const m of metrics) {
		let box = boxes.get(m.key);
		if (!box) {
			const label = `${m.name} (${m.group})`;
			const canvas = document.createElement('canvas');
			canvas.dataset.metric = m.key;
			canvas.setAttribute('role', 'img');
			canvas.setAttribute('aria-label', `${label} of every trial; drag across it or press + / - to zoom, Escape to reset`);
			canvas.textContent = label;
			const h = document.createElement('h3');
			h.className = 'chart-title';
			h.textContent = label;
			const inner = document.createElement('div');
			inner.className = 'chart-box small';
			inner.append(canvas);
			const reset = document.createElement('button');
			reset.type = 'button';
			reset.className = 'zoom-reset';
			reset.textContent = 'Reset zoom';
			reset.setAttribute('aria-label', `Reset the zoom of ${label}`);
			reset.hidden = true;
			box = document.createElement('figure');
			box.className = 'metric-chart';
			box.dataset.metric = m.key;
			box.append(h, reset, inner);
		}
		keep.push(box);
		metricChart(box.querySelector('canvas'), m, opts, box.querySelector('button.zoom-reset'));
	}
	for (const [k, b] of boxes) {
		if (!metrics.some((m) => m.key === k)) {
			const c = window.Chart.getChart(b.querySelector('canvas'));
			if (c) c.destroy();
		}
	}
	const same = keep.length === container.children.length && keep.every((b, i) => container.children[i] === b);
	if (!same) container.replaceChildren(...keep);
}
