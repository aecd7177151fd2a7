// The runs, newest first: filter by text and date, pick one, or two to compare.
import * as api from './api.js';
import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { go, setParams } from './route.js';

const SINCE = [['', 'any time'], ['1d', 'last day'], ['7d', 'last 7 days'], ['30d', 'last 30 days']];

function matches(r, q) {
  if (!q) return true;
  const hay = [String(r.run_id), fmt.command(r.command), ...(r.sessions || [])].join(' ').toLowerCase();
  return q.toLowerCase().split(/\s+/).every((w) => hay.includes(w));
}

function rowFor(r, picked, onPick) {
  const fail = r.tool_failures + r.api_errors;
  const tokens = r.input + r.output + r.cache_read + r.cache_creation;
  return h('tr', { dataset: { run: r.run_id }, tabindex: '-1' },
    h('td', {}, h('input', { type: 'checkbox', checked: picked.has(r.run_id), title: 'compare (x)',
      'aria-label': `pick run ${r.run_id}`, onchange: () => onPick(r.run_id) })),
    h('td', { class: 'num' }, h('a', { href: `#/run/${r.run_id}` }, String(r.run_id))),
    h('td', {}, fmt.when(r.started_ms)),
    h('td', { class: 'num' }, fmt.usd(r.cost_usd)),
    h('td', { class: 'num', title: `${r.input} in · ${r.output} out · ${r.cache_read} cache read · ${r.cache_creation} cache write` }, fmt.count(tokens)),
    h('td', { class: 'num' }, String(r.api_requests)),
    h('td', { class: 'num' }, String(r.tool_calls)),
    h('td', { class: 'num' + (fail ? ' bad' : '') }, String(fail)),
    h('td', { class: 'num' }, r.ended_ms === null ? 'running' : fmt.dur(r.duration_ms)),
    h('td', { class: 'cmd' }, fmt.command(r.command)),
    h('td', { class: 'ids' }, (r.sessions || []).map((s) => h('a', { href: `#/run/${r.run_id}/events?session=${encodeURIComponent(s)}`,
      title: `the events of session ${s}` }, s.slice(0, 8) + ' '))));
}

export async function renderRuns(view, route, ctx) {
  const params = route.params;
  const since = params.get('since') || '';
  const table = await api.get('runs' + (since ? '?since=' + encodeURIComponent(since) : ''));
  const all = api.rows(table);
  const picked = new Set((params.get('pick') || '').split(',').filter(Boolean).map(Number));
  let shown = [];
  let cursor = -1;

  const body = h('tbody');
  const compareBtn = h('button', { type: 'button', disabled: true, onclick: () => {
    const [a, b] = [...picked];
    go(`compare/${a}/${b}`);
  } }, 'Compare');
  const search = h('input', { type: 'search', placeholder: 'filter: command, run, session', value: params.get('q') || '',
    'aria-label': 'filter runs', oninput: () => { update(); } });
  const sinceSel = h('select', { 'aria-label': 'since', onchange: () => {
    params.set('since', sinceSel.value);
    if (!sinceSel.value) params.delete('since');
    go('runs', params);
  } }, SINCE.map(([v, label]) => h('option', { value: v, selected: v === since }, label)));
  const dateIn = h('input', { type: 'date', 'aria-label': 'since date', value: /^\d{4}-\d\d-\d\d$/.test(since) ? since : '',
    onchange: () => { if (dateIn.value) { params.set('since', dateIn.value); go('runs', params); } } });

  function onPick(id) {
    if (picked.has(id)) picked.delete(id); else picked.add(id);
    while (picked.size > 2) picked.delete(picked.values().next().value);
    if (picked.size) params.set('pick', [...picked].join(',')); else params.delete('pick');
    setParams(params);
    update();
  }

  function update() {
    const q = search.value.trim();
    if (q) params.set('q', q); else params.delete('q');
    setParams(params);
    shown = all.filter((r) => matches(r, q));
    clear(body).append(...shown.map((r) => rowFor(r, picked, onPick)));
    compareBtn.disabled = picked.size !== 2;
    count.textContent = `${shown.length} of ${all.length} runs`;
    cursor = Math.min(cursor, shown.length - 1);
    mark();
  }

  function mark() {
    body.querySelectorAll('tr.sel').forEach((tr) => tr.classList.remove('sel'));
    const tr = body.children[cursor];
    if (tr) { tr.classList.add('sel'); tr.scrollIntoView({ block: 'nearest' }); }
  }

  const count = h('span', { class: 'muted' });
  clear(view).append(
    h('div', { class: 'toolbar' }, search, sinceSel, dateIn, compareBtn, count),
    all.length === 0
      ? h('p', { class: 'muted' }, 'No runs recorded yet. Run a command under ccrun; it appears here.')
      : h('table', { class: 'grid runs' },
        h('thead', {}, h('tr', {}, ['', 'run', 'started', 'cost', 'tokens', 'requests', 'tools',
          'failures', 'duration', 'command', 'sessions'].map((c) => h('th', {}, c)))),
        body));
  update();

  ctx.setExporter(() => ({ name: 'runs', columns: table.columns, rows: shown.map((r) => table.columns.map((c) => r[c])) }));
  ctx.setKeys((key) => {
    if (key === 'j' || key === 'k') { cursor = Math.max(0, Math.min(shown.length - 1, cursor + (key === 'j' ? 1 : -1))); mark(); return true; }
    if (key === 'Enter' && shown[cursor]) { go(`run/${shown[cursor].run_id}`); return true; }
    if (key === 'x' && shown[cursor]) { onPick(shown[cursor].run_id); return true; }
    return false;
  });
}
