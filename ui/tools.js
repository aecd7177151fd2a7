// Per-tool calls, success rate and time; then every failure with its error.
import { h, clear } from './dom.js';
import * as fmt from './format.js';

export function renderTools(view, data, route, ctx) {
  const tools = data.tools;
  clear(view).append(
    h('h1', {}, `Run ${data.id} tools & failures`),
    tools.length === 0 ? h('p', { class: 'muted' }, 'No tool calls.') : h('table', { class: 'grid tools' },
      h('thead', {}, h('tr', {}, ['tool', 'calls', 'ok', 'failed', 'rejected', 'success', 'time', 'mean'].map((x) => h('th', {}, x)))),
      h('tbody', {}, tools.map((t) => h('tr', { dataset: { tool: t.name } },
        h('td', {}, h('a', { href: `#/run/${data.id}/events?tool=${encodeURIComponent(t.name)}` }, t.name)),
        h('td', { class: 'num' }, String(t.calls)), h('td', { class: 'num' }, String(t.succeeded)),
        h('td', { class: 'num' + (t.failed ? ' bad' : '') }, String(t.failed)), h('td', { class: 'num' }, String(t.rejected)),
        h('td', { class: 'num' }, fmt.pct(t.succeeded, t.calls)), h('td', { class: 'num' }, fmt.dur(t.duration_ms)),
        h('td', { class: 'num' }, t.calls ? fmt.dur(t.duration_ms / t.calls) : '—'))))),
    h('h2', {}, `Failures (${data.errors.length})`),
    data.errors.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', { class: 'grid failures' },
      h('thead', {}, h('tr', {}, ['time', 'event', 'tool / model', 'status', 'error'].map((x) => h('th', {}, x)))),
      h('tbody', {}, data.errors.map((e) => h('tr', { class: 'clickable', dataset: { index: e.index }, onclick: () => ctx.showEvent(data.id, e.index) },
        h('td', {}, fmt.clock(e.time_ms)), h('td', {}, e.name), h('td', {}, e.tool_name || e.model || ''),
        h('td', { class: 'num' }, e.status_code === null ? '' : String(e.status_code)),
        h('td', { class: 'cmd' }, e.error || ''))))));
  ctx.setExporter(() => ({ name: `run-${data.id}-tools`, columns: Object.keys(tools[0] || {}), rows: tools.map((t) => Object.values(t)) }));
}
