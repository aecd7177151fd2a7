// One run at a glance: the figures, cost per prompt, cost and requests by
// model over time, and tool decisions accepted and rejected over time.
import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { go } from './route.js';
import { palette, makeChart, loadCharts } from './charts.js';

// Time the run was busy: the union of every request's and tool call's span.
export function activeMs(events) {
  const c = colIndex(events);
  const spans = [];
  for (const r of events.rows) {
    const d = r[c.duration_ms];
    if (d && (r[c.name] === 'api_request' || r[c.name] === 'api_error' || r[c.name] === 'tool_result')) {
      spans.push([r[c.time_ms] - d, r[c.time_ms]]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  // The events' own clock, not the run's: replayed or relayed events keep theirs.
  let first = Infinity;
  let last = -Infinity;
  for (const r of events.rows) { first = Math.min(first, r[c.time_ms]); last = Math.max(last, r[c.time_ms]); }
  for (const sp of spans) first = Math.min(first, sp[0]);
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return { active: total, span: events.rows.length ? last - first : 0 };
}

export function colIndex(table) {
  const c = {};
  table.columns.forEach((name, i) => { c[name] = i; });
  return c;
}

function figure(key, label, value, shown, note) {
  return h('div', { class: 'figure', dataset: { key, value: value === null ? '' : String(value) } },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, shown), note ? h('div', { class: 'note' }, note) : null);
}

export function figures(s, events) {
  const t = s.tokens;
  const allIn = t.input + t.cache_read + t.cache_creation;
  const tools = s.tools || [];
  const failed = tools.reduce((n, x) => n + x.failed, 0);
  const act = activeMs(events);
  return h('div', { class: 'figures' },
    figure('cost_usd', 'cost', s.cost_usd, fmt.usd(s.cost_usd), s.cost_estimated ? 'estimated by ccrun' : null),
    figure('tokens.input', 'input tokens', t.input, fmt.count(t.input)),
    figure('tokens.output', 'output tokens', t.output, fmt.count(t.output)),
    figure('tokens.cache_read', 'cache read', t.cache_read, fmt.count(t.cache_read)),
    figure('tokens.cache_creation', 'cache write', t.cache_creation, fmt.count(t.cache_creation)),
    figure('cache_hit_ratio', 'cache hit ratio', allIn ? t.cache_read / allIn : null, fmt.pct(t.cache_read, allIn)),
    figure('api_requests', 'API requests', s.api_requests, String(s.api_requests)),
    figure('errors', 'errors', s.api_errors + failed, String(s.api_errors + failed), `${s.api_errors} API · ${failed} tools`),
    figure('active_ms', 'active time', act.active, fmt.dur(act.active), `of ${fmt.dur(act.span)} from first to last event`),
    figure('lines', 'lines changed', s.lines_added + s.lines_removed, `+${s.lines_added} −${s.lines_removed}`));
}

function promptList(data) {
  return h('table', { class: 'grid prompts' },
    h('thead', {}, h('tr', {}, ['#', 'prompt', 'cost', 'requests', 'tools', 'failures', 'span'].map((c) => h('th', {}, c)))),
    h('tbody', {}, data.prompts.map((p) => h('tr', { dataset: { prompt: p.index } },
      h('td', { class: 'num' }, h('a', { href: `#/run/${data.id}/waterfall/${p.index}` }, String(p.index + 1))),
      h('td', { class: 'cmd' }, p.slash_command ? '/' + p.slash_command : fmt.prompt(p.text, p.hash, p.length) || '(no prompt id)'),
      h('td', { class: 'num' }, fmt.usd(p.cost_usd)),
      h('td', { class: 'num' }, String(p.api_requests)),
      h('td', { class: 'num' }, String(p.tool_calls)),
      h('td', { class: 'num' + (p.tool_failures + p.api_errors ? ' bad' : '') }, String(p.tool_failures + p.api_errors)),
      h('td', { class: 'num' }, fmt.dur(p.end_ms - p.start_ms))))));
}

function charts(data) {
  const s = data.series;
  const labels = Array.from({ length: s.buckets }, (_, i) => fmt.clock(s.start_ms + i * s.bucket_ms).slice(0, 8));
  const pal = palette();
  const byModel = (key) => s.models.map((m, i) => ({ label: m, data: s[key][i], backgroundColor: pal.series[i % pal.series.length],
    borderColor: pal.series[i % pal.series.length] }));
  const box = (title, id) => h('figure', { class: 'chart' }, h('figcaption', {}, title), h('div', { class: 'canvas-box' }, h('canvas', { id })));
  const grid = h('div', { class: 'charts' },
    box('Cost per prompt', 'c-prompts'), box(`Cost by model (per ${fmt.dur(s.bucket_ms)})`, 'c-cost'),
    box('Requests by model', 'c-req'), box('Tool decisions', 'c-dec'));
  const specs = [
    ['c-prompts', { type: 'bar', data: { labels: data.prompts.map((p) => String(p.index + 1)),
      datasets: [{ label: 'cost (USD)', data: data.prompts.map((p) => p.cost_usd), backgroundColor: pal.api }] },
      onClick: (_, els) => { if (els[0]) go(`run/${data.id}/waterfall/${els[0].index}`); } }],
    ['c-cost', { type: 'bar', data: { labels, datasets: byModel('cost') }, stacked: true }],
    ['c-req', { type: 'line', data: { labels, datasets: byModel('requests') } }],
    ['c-dec', { type: 'bar', data: { labels, datasets: [
      { label: 'accepted', data: s.accept, backgroundColor: pal.accept },
      { label: 'rejected', data: s.reject, backgroundColor: pal.reject }] }, stacked: true }],
  ];
  return { grid, draw: () => specs.map(([id, spec]) => makeChart(grid.querySelector('#' + id), spec)) };
}

export async function renderOverview(view, data, route, ctx) {
  await loadCharts();
  const s = data.summary;
  const c = charts(data);
  clear(view).append(
    h('h1', {}, `Run ${s.run_id}`),
    h('p', { class: 'cmd', title: fmt.command(s.command) }, fmt.command(s.command)),
    h('p', { class: 'muted' }, `${fmt.when(Date.parse(s.started_at))} · ${fmt.dur(s.duration_ms)} · ` +
      `${s.program || 'unknown program'} ${s.program_version || ''} · sessions ${(s.sessions || []).join(', ') || 'none'}`),
    figures(s, data.events),
    c.grid,
    h('h2', {}, 'Prompts'),
    promptList(data));
  const made = c.draw();
  ctx.setExporter(() => ({ name: `run-${s.run_id}-prompts`, columns: Object.keys(data.prompts[0] || {}),
    rows: data.prompts.map((p) => Object.values(p)), canvas: made[0] && made[0].canvas }));
  let cursor = -1;
  const trs = () => view.querySelectorAll('table.prompts tbody tr');
  ctx.setKeys((key) => {
    const list = trs();
    if (key === 'j' || key === 'k') {
      cursor = Math.max(0, Math.min(list.length - 1, cursor + (key === 'j' ? 1 : -1)));
      list.forEach((tr, i) => tr.classList.toggle('sel', i === cursor));
      if (list[cursor]) list[cursor].scrollIntoView({ block: 'nearest' });
      return true;
    }
    if (key === 'Enter' && list[cursor]) { go(`run/${data.id}/waterfall/${cursor}`); return true; }
    return false;
  });
}
