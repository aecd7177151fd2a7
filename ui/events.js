// Every event in time order, colour-coded by kind. Only the rows in sight
// are in the document, so ten thousand events scroll as smoothly as ten.
import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { setParams } from './route.js';
import { colIndex } from './overview.js';

const ROW = 26;
const OVERSCAN = 8;
const KINDS = { user_prompt: 'prompt', api_request: 'api', api_error: 'error', tool_decision: 'decision', tool_result: 'tool' };

function kindOf(r, c) {
  if (r[c.name] === 'tool_result' && r[c.success] === false) return 'error';
  return KINDS[r[c.name]] || 'other';
}

function cells(r, c) {
  const tok = (k) => (r[c[k]] === null ? '' : fmt.count(r[c[k]]));
  const decision = r[c.decision] ? `${r[c.decision]}${r[c.source] ? ' · ' + r[c.source] : ''}` : '';
  const ok = r[c.success] === null ? '' : r[c.success] ? 'ok' : 'failed';
  return [
    fmt.clock(r[c.time_ms]), r[c.name],
    r[c.slash_command] ? '/' + r[c.slash_command] : fmt.prompt(r[c.prompt], r[c.prompt_hash], r[c.prompt_length]),
    r[c.model] || '', r[c.duration_ms] === null ? '' : fmt.dur(r[c.duration_ms]),
    tok('input'), tok('output'), tok('cache_read'), tok('cache_creation'),
    r[c.cost_usd] === null ? '' : fmt.usd(r[c.cost_usd]), r[c.tool_name] || '', decision, ok,
    r[c.error] || (r[c.status_code] ? String(r[c.status_code]) : ''), r[c.tool_parameters] || '',
  ];
}

const HEADS = ['time', 'event', 'prompt', 'model', 'duration', 'in', 'out', 'cache r', 'cache w', 'cost',
  'tool', 'decision', 'success', 'error', 'parameters'];

function chips(t, c, filter, onChange) {
  const byKind = new Map();
  const byTool = new Map();
  for (const r of t.rows) {
    const k = kindOf(r, c);
    byKind.set(k, (byKind.get(k) || 0) + 1);
    if (r[c.tool_name]) byTool.set(r[c.tool_name], (byTool.get(r[c.tool_name]) || 0) + 1);
  }
  const chip = (group, value, n, cls) => h('button', { type: 'button', class: `chip ${cls || ''}`,
    'aria-pressed': filter[group].has(value) ? 'true' : 'false', dataset: { group, value, kind: group === 'kind' ? value : '' },
    onclick: () => { if (filter[group].has(value)) filter[group].delete(value); else filter[group].add(value); onChange(); } },
  `${value} ${n}`);
  return h('div', { class: 'chips' },
    [...byKind].map(([k, n]) => chip('kind', k, n, 'k-' + k)),
    h('span', { class: 'sep' }),
    [...byTool].sort((a, b) => b[1] - a[1]).map(([k, n]) => chip('tool', k, n)));
}

export function renderEvents(view, data, route, ctx) {
  const t = data.events;
  const c = colIndex(t);
  const params = route.params;
  const filter = { kind: new Set((params.get('kind') || '').split(',').filter(Boolean)),
    tool: new Set((params.get('tool') || '').split(',').filter(Boolean)) };
  const session = params.get('session');
  let shown = [];
  let cursor = Number(params.get('sel') ?? -1);

  const spacer = h('div', { class: 'spacer-rows' });
  const rowsBox = h('div', { class: 'rows' });
  const scroller = h('div', { class: 'vscroll', tabindex: '0', 'aria-label': 'events' }, spacer, rowsBox);
  const count = h('span', { class: 'muted' });
  const search = h('input', { type: 'search', placeholder: 'filter: any text', value: params.get('q') || '',
    'aria-label': 'filter events', oninput: () => apply() });

  function paint() {
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(shown.length, first + Math.ceil(scroller.clientHeight / ROW) + 2 * OVERSCAN);
    const frag = document.createDocumentFragment();
    for (let k = first; k < last; k++) {
      const i = shown[k];
      const r = t.rows[i];
      const row = h('div', { class: `row k-${kindOf(r, c)}${k === cursor ? ' sel' : ''}`, dataset: { index: i, pos: k },
        role: 'row' }, cells(r, c).map((v) => h('span', { title: v.length > 20 ? v : null }, v)));
      row.style.transform = `translateY(${k * ROW}px)`;
      frag.append(row);
    }
    clear(rowsBox).append(frag);
  }

  function apply() {
    const q = search.value.trim().toLowerCase();
    shown = [];
    t.rows.forEach((r, i) => {
      if (session && r[c.session_id] !== session) return;
      if (filter.kind.size && !filter.kind.has(kindOf(r, c))) return;
      if (filter.tool.size && !filter.tool.has(r[c.tool_name])) return;
      if (q && !cells(r, c).join(' ').toLowerCase().includes(q)) return;
      shown.push(i);
    });
    for (const [k, v] of [['kind', [...filter.kind].join(',')], ['tool', [...filter.tool].join(',')], ['q', q]]) {
      if (v) params.set(k, v); else params.delete(k);
    }
    setParams(params);
    chipBox.querySelectorAll('.chip').forEach((b) => b.setAttribute('aria-pressed', String(filter[b.dataset.group].has(b.dataset.value))));
    spacer.style.height = `${shown.length * ROW}px`;
    count.textContent = `${shown.length} of ${t.rows.length} events`;
    paint();
  }

  function select(k, open) {
    cursor = Math.max(0, Math.min(shown.length - 1, k));
    params.set('sel', String(cursor));
    setParams(params);
    const top = cursor * ROW;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + ROW - scroller.clientHeight;
    paint();
    if (open) ctx.showEvent(data.id, shown[cursor]);
  }

  const chipBox = chips(t, c, filter, apply);
  clear(view).append(
    h('div', { class: 'toolbar' }, h('h1', {}, `Run ${data.id} events`), search, count,
      session ? h('a', { href: `#/run/${data.id}/events`, class: 'chip', title: 'show every session' }, `session ${session.slice(0, 8)} ×`) : null),
    chipBox,
    // Header and rows scroll sideways together when the window is narrow.
    h('div', { class: 'events-wrap' },
      h('div', { class: 'row head', role: 'row' }, HEADS.map((x) => h('span', {}, x))),
      scroller));
  let pending = false;
  scroller.addEventListener('scroll', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; paint(); });
  });
  rowsBox.addEventListener('click', (e) => {
    const row = e.target.closest('.row');
    if (row) select(Number(row.dataset.pos), true);
  });
  apply();
  if (cursor >= 0) select(cursor, false);
  ctx.setExporter(() => ({ name: `run-${data.id}-events`, columns: t.columns, rows: shown.map((i) => t.rows[i]) }));
  ctx.setKeys((key) => {
    if (key === 'j' || key === 'k') { select(cursor + (key === 'j' ? 1 : -1), false); return true; }
    if (key === 'Enter' && cursor >= 0) { select(cursor, true); return true; }
    return false;
  });
}
