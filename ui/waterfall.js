// The waterfall of a prompt (or of the whole run): API calls and tool calls
// as bars from start to end. An event's timestamp marks its end and
// duration_ms gives its start. Subagent requests sit under the Agent tool
// call that spans them, decisions are markers, errors are red, and idle
// stretches are squeezed so the work stays readable.
import { h, svg, clear } from './dom.js';
import * as fmt from './format.js';
import { go } from './route.js';
import { palette } from './charts.js';
import { colIndex } from './overview.js';

const ROW = 22;
const LABEL = 230;
const GAP_PX = 28;
const AGENT_TOOLS = new Set(['Agent', 'Task']);

// The bars and markers of the events in rows (indices into the table).
function layout(t, c, rowsIdx) {
  const bars = [];
  const marks = [];
  for (const i of rowsIdx) {
    const r = t.rows[i];
    const name = r[c.name];
    const end = r[c.time_ms];
    if (name === 'api_request' || name === 'api_error' || name === 'tool_result') {
      const d = r[c.duration_ms] || 0;
      bars.push({ i, r, start: end - d, end, depth: 0, children: [] });
    } else if (name === 'user_prompt' || name === 'tool_decision') {
      marks.push({ i, r, at: end });
    }
  }
  bars.sort((a, b) => a.start - b.start || a.end - b.end);
  // A subagent request belongs to the narrowest Agent call around it.
  const agents = bars.filter((b) => AGENT_TOOLS.has(b.r[c.tool_name]));
  const top = [];
  for (const b of bars) {
    let parent = null;
    if (b.r[c.request_kind] === 'subagent' || (b.r[c.name] === 'tool_result' && !AGENT_TOOLS.has(b.r[c.tool_name]))) {
      for (const a of agents) {
        if (a !== b && a.start <= b.start + 1 && b.end <= a.end + 1 && (!parent || a.end - a.start < parent.end - parent.start)) parent = a;
      }
    }
    if (parent) { b.depth = 1; parent.children.push(b); } else top.push(b);
  }
  const ordered = [];
  for (const b of top) { ordered.push(b); ordered.push(...b.children); }
  return { bars: ordered, marks };
}

// Maps time to x, squeezing gaps where nothing ran into GAP_PX each.
function timeScale(bars, marks, width) {
  const spans = bars.map((b) => [b.start, b.end]).concat(marks.map((m) => [m.at, m.at]));
  spans.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]); else merged.push([s[0], s[1]]);
  }
  const busy = merged.reduce((n, [a, b]) => n + (b - a), 0) || 1;
  const minGap = Math.max(busy * 0.05, 500);
  const segs = [];
  let gaps = 0;
  for (let k = 0; k < merged.length; k++) {
    segs.push({ t0: merged[k][0], t1: merged[k][1], idle: false });
    const next = merged[k + 1];
    if (next) {
      const idle = next[0] - merged[k][1] > minGap;
      segs.push({ t0: merged[k][1], t1: next[0], idle });
      gaps += idle;
    }
  }
  const activeTime = segs.filter((s) => !s.idle).reduce((n, s) => n + (s.t1 - s.t0), 0) || 1;
  const pxPerMs = Math.max(0, width - gaps * GAP_PX) / activeTime;
  let x = 0;
  for (const s of segs) {
    s.x0 = x;
    x += s.idle ? GAP_PX : (s.t1 - s.t0) * pxPerMs;
    s.x1 = x;
  }
  const t0 = segs.length ? segs[0].t0 : 0;
  const at = (t) => {
    for (const s of segs) {
      if (t <= s.t1) return s.x0 + (s.t1 > s.t0 ? ((t - s.t0) / (s.t1 - s.t0)) * (s.x1 - s.x0) : 0);
    }
    return x;
  };
  return { at, segs, t0 };
}

function label(r, c) {
  const name = r[c.name];
  if (name === 'tool_result') return r[c.tool_name] || 'tool';
  const kind = r[c.request_kind];
  return (name === 'api_error' ? 'error ' : '') + (r[c.model] || 'API') + (kind && kind !== 'main' ? ` [${kind === 'auxiliary' ? r[c.query_source] : kind}]` : '');
}

function barColour(r, c, pal) {
  if (r[c.name] === 'api_error' || r[c.success] === false || r[c.error]) return pal.error;
  if (r[c.name] === 'tool_result') return pal.tool;
  return r[c.request_kind] === 'subagent' ? pal.sub : r[c.request_kind] === 'auxiliary' ? pal.aux : pal.api;
}

function drawMarks(g, marks, c, sc, height, pal, onPick) {
  for (const m of marks) {
    const x = LABEL + sc.at(m.at);
    const name = m.r[c.name];
    if (name === 'tool_decision') {
      const ok = m.r[c.decision] === 'accept';
      const title = `${m.r[c.tool_name] || 'tool'} ${m.r[c.decision]} (${m.r[c.source] || 'no source'})`;
      // A triangle for accept, a square for reject: told apart without colour.
      const shape = ok
        ? svg('path', { d: `M${x - 5},12 L${x + 5},12 L${x},3 Z`, fill: pal.accept })
        : svg('rect', { x: x - 4, y: 3, width: 8, height: 8, fill: pal.reject });
      shape.append(svg('title', {}, title));
      g.append(svg('g', { class: 'mark', dataset: { index: m.i, decision: m.r[c.decision] }, onclick: () => onPick(m.i) }, shape));
    } else {
      const line = svg('line', { x1: x, x2: x, y1: 14, y2: height, stroke: pal.prompt, 'stroke-width': 2, 'stroke-dasharray': '3 3' });
      line.append(svg('title', {}, `${name} ${fmt.prompt(m.r[c.prompt], m.r[c.prompt_hash], m.r[c.prompt_length])}`));
      g.append(svg('g', { class: 'mark', dataset: { index: m.i }, onclick: () => onPick(m.i) }, line));
    }
  }
}

export function drawWaterfall(t, rowsIdx, width, onPick) {
  const c = colIndex(t);
  const pal = palette();
  const { bars, marks } = layout(t, c, rowsIdx);
  const plot = Math.max(200, width - LABEL - 70);
  const sc = timeScale(bars, marks, plot);
  const height = 18 + bars.length * ROW + 22;
  const root = svg('svg', { class: 'waterfall', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `waterfall of ${bars.length} calls`, 'font-family': 'sans-serif', 'font-size': 12 });
  root.append(svg('rect', { x: 0, y: 0, width, height, fill: pal.bg, 'pointer-events': 'none' }));
  for (const s of sc.segs.filter((s) => s.idle)) {
    const x = LABEL + s.x0;
    const idle = svg('g', { class: 'idle' },
      svg('rect', { x, y: 14, width: s.x1 - s.x0, height: height - 14, fill: pal.grid, opacity: 0.5, 'pointer-events': 'none' }),
      svg('text', { x: x + 2, y: 11, fill: pal.fg, 'font-size': 9 }, '≈' + fmt.dur(s.t1 - s.t0)));
    idle.append(svg('title', {}, `idle ${fmt.dur(s.t1 - s.t0)}, squeezed`));
    root.append(idle);
  }
  drawAxis(root, sc, height, pal);
  bars.forEach((b, k) => {
    const y = 18 + k * ROW;
    const x0 = LABEL + sc.at(b.start);
    const w = Math.max(2, LABEL + sc.at(b.end) - x0);
    const fill = barColour(b.r, c, pal);
    const g = svg('g', { class: 'bar', tabindex: 0, dataset: { index: b.i, name: b.r[c.name], depth: b.depth, failed: fill === pal.error ? '1' : '' },
      onclick: () => onPick(b.i), onkeydown: (e) => { if (e.key === 'Enter') onPick(b.i); } },
      // The whole row takes the click, not only the bar, which may be a sliver.
      svg('rect', { class: 'hit', x: 0, y, width, height: ROW, fill: 'transparent' }),
      svg('text', { x: 4 + b.depth * 16, y: y + 14, fill: pal.fg }, (b.depth ? '↳ ' : '') + label(b.r, c).slice(0, 30)),
      svg('rect', { x: x0, y: y + 3, width: w, height: ROW - 6, rx: 2, fill, stroke: b.r[c.name] === 'api_error' ? pal.fg : 'none' }),
      svg('text', { x: Math.min(x0 + w + 4, width - 60), y: y + 14, fill: pal.fg, 'font-size': 10 }, fmt.dur(b.end - b.start)));
    g.append(svg('title', {}, `${label(b.r, c)} · ${fmt.dur(b.end - b.start)} · ends ${fmt.clock(b.end)}` +
      (b.r[c.error] ? ` · ${b.r[c.error]}` : '')));
    root.append(g);
  });
  drawMarks(root, marks, c, sc, height, pal, onPick);
  return root;
}

// Time since the first event at the start of each busy stretch, and in
// between where a stretch is wide enough for more labels.
function drawAxis(root, sc, height, pal) {
  let lastX = -Infinity;
  for (const s of sc.segs.filter((seg) => !seg.idle)) {
    const steps = Math.max(1, Math.floor((s.x1 - s.x0) / 120));
    for (let k = 0; k < steps; k++) {
      const x = s.x0 + ((s.x1 - s.x0) * k) / steps;
      if (x - lastX < 70) continue;
      lastX = x;
      const t = s.t0 + ((s.t1 - s.t0) * k) / steps - sc.t0;
      root.append(svg('line', { x1: LABEL + x, x2: LABEL + x, y1: 14, y2: height - 14, stroke: pal.grid, 'pointer-events': 'none' }),
        svg('text', { x: LABEL + x + 2, y: height - 3, fill: pal.fg, 'font-size': 9, 'pointer-events': 'none' }, '+' + fmt.dur(t)));
    }
  }
}

function promptPicker(data, current) {
  return h('select', { 'aria-label': 'prompt', onchange: (e) => go(`run/${data.id}/waterfall/${e.target.value}`) },
    h('option', { value: 'all', selected: current === 'all' }, 'all prompts'),
    data.prompts.map((p) => h('option', { value: p.index, selected: String(p.index) === current },
      `${p.index + 1}. ${(p.slash_command ? '/' + p.slash_command : fmt.prompt(p.text, p.hash, p.length)).slice(0, 60)}`)));
}

function legend(pal) {
  const item = (colour, text) => h('span', { class: 'key' }, h('span', { class: 'swatch', dataset: { c: colour } }), text);
  return h('div', { class: 'legend' }, item('api', 'API request'), item('sub', 'subagent'), item('aux', 'auxiliary'),
    item('tool', 'tool call'), item('error', 'error / failed'), item('accept', '▲ accepted'), item('reject', '■ rejected'),
    item('prompt', 'prompt'), item('idle', 'idle, squeezed'));
}

export function renderWaterfall(view, data, route, ctx) {
  const t = data.events;
  const c = colIndex(t);
  const which = route.parts[3] || (data.prompts.length ? '0' : 'all');
  const prompt = which === 'all' ? null : data.prompts[Number(which)];
  const rowsIdx = [];
  t.rows.forEach((r, i) => { if (!prompt || r[c.prompt_id] === prompt.prompt_id) rowsIdx.push(i); });
  const box = h('div', { class: 'wf-box' });
  const draw = () => {
    const width = Math.max(600, view.clientWidth - 8);
    clear(box).append(drawWaterfall(t, rowsIdx, width, (i) => ctx.showEvent(data.id, i)));
  };
  const p = prompt;
  clear(view).append(...[
    h('div', { class: 'toolbar' }, h('h1', {}, `Run ${data.id} waterfall`), promptPicker(data, which)),
    p && h('p', { class: 'prompt-text' }, p.slash_command ? '/' + p.slash_command : fmt.prompt(p.text, p.hash, p.length)),
    p && h('p', { class: 'muted' }, `${fmt.usd(p.cost_usd)} · ${p.api_requests} requests · ${p.tool_calls} tool calls · ${fmt.dur(p.end_ms - p.start_ms)}`),
    legend(palette()), box].filter(Boolean));
  draw();
  ctx.setExporter(() => ({ name: `run-${data.id}-waterfall-${which}`, columns: t.columns,
    rows: rowsIdx.map((i) => t.rows[i]), svg: box.querySelector('svg') }));
  ctx.setKeys((key) => {
    const n = data.prompts.length;
    if (!n || (key !== '[' && key !== ']')) return false;
    const cur = which === 'all' ? -1 : Number(which);
    go(`run/${data.id}/waterfall/${(cur + (key === ']' ? 1 : n - 1 + (cur < 0 ? 1 : 0))) % n}`);
    return true;
  });
}
