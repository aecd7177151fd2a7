// Two runs side by side: the figures of each and the difference.
import * as api from './api.js';
import { h, clear } from './dom.js';
import * as fmt from './format.js';

const LINES = [
  ['cost', (s) => s.cost_usd, fmt.usd],
  ['API requests', (s) => s.api_requests, String],
  ['API errors', (s) => s.api_errors, String],
  ['input tokens', (s) => s.tokens.input, fmt.count],
  ['output tokens', (s) => s.tokens.output, fmt.count],
  ['cache read', (s) => s.tokens.cache_read, fmt.count],
  ['cache write', (s) => s.tokens.cache_creation, fmt.count],
  ['time in API', (s) => s.api_duration_ms, fmt.dur],
  ['duration', (s) => s.duration_ms, fmt.dur],
  ['tool calls', (s) => s.tools.reduce((n, t) => n + t.calls, 0), String],
  ['tool failures', (s) => s.tools.reduce((n, t) => n + t.failed, 0), String],
  ['prompts', (s) => s.prompts.length, String],
  ['lines changed', (s) => s.lines_added + s.lines_removed, String],
];

export async function renderCompare(view, a, b, ctx) {
  const d = await api.get(`compare?a=${a}&b=${b}`);
  const rows = LINES.map(([label, get, f]) => {
    const va = get(d.a);
    const vb = get(d.b);
    const diff = va !== null && vb !== null ? vb - va : null;
    return { label, va, vb, diff, f };
  });
  clear(view).append(
    h('h1', {}, `Compare run ${a} and run ${b}`),
    h('table', { class: 'grid compare' },
      h('thead', {}, h('tr', {}, h('th', {}, ''),
        h('th', {}, h('a', { href: `#/run/${a}` }, `run ${a}`)), h('th', {}, h('a', { href: `#/run/${b}` }, `run ${b}`)), h('th', {}, 'change'))),
      h('tbody', {},
        h('tr', {}, h('td', {}, 'command'), h('td', { class: 'cmd' }, fmt.command(d.a.command)), h('td', { class: 'cmd' }, fmt.command(d.b.command)), h('td', {}, '')),
        rows.map((r) => h('tr', {}, h('td', {}, r.label), h('td', { class: 'num' }, r.f(r.va)), h('td', { class: 'num' }, r.f(r.vb)),
          h('td', { class: 'num' + (r.diff > 0 ? ' up' : r.diff < 0 ? ' down' : '') },
            r.diff === null ? '—' : (r.diff > 0 ? '+' : r.diff < 0 ? '−' : '') + r.f(Math.abs(r.diff))))))));
  ctx.setExporter(() => ({ name: `compare-${a}-${b}`, columns: ['figure', `run ${a}`, `run ${b}`, 'change'],
    rows: rows.map((r) => [r.label, r.va, r.vb, r.diff]) }));
}
