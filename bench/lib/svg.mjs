// docs/latency.svg: the round-trip distribution of each path as a CDF on a log time axis.
import { quantile } from './stats.mjs';

const COLORS = ['#555555', '#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * series: [{ name, samples (ms) }]. Returns an SVG document (string). The x axis is logarithmic
 * and spans the 0.1th to 99.9th percentile of all samples.
 */
export function latencyCdfSvg(series, { title, subtitle } = {}) {
  const shownCount = series.filter((x) => x.samples.length > 0).length;
  const W = 820;
  const H = 470 + shownCount * 18;
  const m = { left: 64, right: 24, top: 56, bottom: 66 + shownCount * 18 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const shown = series.filter((s) => s.samples.length > 0);
  const all = shown.flatMap((s) => s.samples);
  const lo = Math.max(0.01, quantile(all, 0.001) * 0.8);
  const hi = quantile(all, 0.999) * 1.25;
  const lx0 = Math.log10(lo);
  const lx1 = Math.log10(hi);
  const x = (ms) => m.left + ((Math.log10(Math.min(Math.max(ms, lo), hi)) - lx0) / (lx1 - lx0)) * pw;
  const y = (p) => m.top + (1 - p) * ph;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  if (title) out.push(`<text x="${m.left}" y="24" font-size="15" font-weight="600" fill="#222">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${m.left}" y="42" fill="#666">${esc(subtitle)}</text>`);
  // grid: decades and 2/5 steps
  for (let e = Math.floor(lx0); e <= Math.ceil(lx1); e++) {
    for (const k of [1, 2, 5]) {
      const v = k * 10 ** e;
      if (v < lo || v > hi) continue;
      const gx = x(v).toFixed(1);
      out.push(`<line x1="${gx}" y1="${m.top}" x2="${gx}" y2="${m.top + ph}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`);
      out.push(`<text x="${gx}" y="${m.top + ph + 16}" text-anchor="middle" fill="#444">${v >= 1 ? v : v.toFixed(-e)}</text>`);
    }
  }
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    const gy = y(p).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${gy}" x2="${m.left + pw}" y2="${gy}" stroke="${p === 0.5 ? '#bbb' : '#eee'}"/>`);
    out.push(`<text x="${m.left - 6}" y="${(y(p) + 4).toFixed(1)}" text-anchor="end" fill="#444">${Math.round(p * 100)}%</text>`);
  }
  for (const p of [0.95, 0.99]) {
    const gy = y(p).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${gy}" x2="${m.left + pw}" y2="${gy}" stroke="#ddd" stroke-dasharray="3 3"/>`);
    out.push(`<text x="${m.left + pw - 4}" y="${(y(p) + (p === 0.95 ? 12 : -3)).toFixed(1)}" text-anchor="end" fill="#999" font-size="10">p${Math.round(p * 100)}</text>`);
  }
  out.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 36}" text-anchor="middle" fill="#222">round trip A → hub → B → hub → A (ms, log scale)</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#222">share of round trips at or below</text>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  shown.forEach((s, i) => {
    const sorted = [...s.samples].sort((a, b) => a - b);
    const step = Math.max(1, Math.floor(sorted.length / 600));
    const pts = [];
    for (let k = 0; k < sorted.length; k += step) pts.push(`${x(sorted[k]).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
    pts.push(`${x(sorted[sorted.length - 1]).toFixed(1)},${y(1).toFixed(1)}`);
    const color = COLORS[i % COLORS.length];
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    const medianMs = quantile(sorted, 0.5);
    const ly = m.top + ph + 62 + i * 18; // the legend, under the axis title
    out.push(`<line x1="${m.left}" y1="${ly - 4}" x2="${m.left + 20}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${m.left + 26}" y="${ly}" fill="#222">${esc(s.name)}: median ${medianMs.toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms (n = ${sorted.length})</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
