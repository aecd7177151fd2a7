// The page: routing by the URL fragment (so every view is a link that can
// be shared and reloaded), themes, the details panel, keys and live updates.
import * as api from './api.js';
import { h, clear } from './dom.js';
import { renderRuns } from './runs.js';
import { renderOverview } from './overview.js';
import { renderWaterfall } from './waterfall.js';
import { renderEvents } from './events.js';
import { renderTools } from './tools.js';
import { renderCompare } from './compare.js';
import { exportView } from './export.js';
import { parseRoute, go } from './route.js';

const view = document.getElementById('view');
const state = { route: null, exporter: null, keys: null, status: null };

function crumbs(parts) {
  const nav = clear(document.getElementById('crumbs'));
  nav.append(h('a', { href: '#/runs' }, 'runs'));
  if (parts[0] === 'run' && parts[1]) {
    nav.append(' / ', h('a', { href: `#/run/${parts[1]}` }, `run ${parts[1]}`));
    for (const [k, label] of [['waterfall', 'waterfall'], ['events', 'events'], ['tools', 'tools & failures']]) {
      nav.append(' · ', h('a', { href: `#/run/${parts[1]}/${k}`, class: parts[2] === k ? 'here' : '' }, label));
    }
  }
  if (parts[0] === 'compare') nav.append(' / ', h('span', {}, `compare ${parts[1]} and ${parts[2]}`));
}

const routes = {
  runs: (r, ctx) => renderRuns(view, r, ctx),
  run: (r, ctx) => {
    const id = Number(r.parts[1]);
    const sub = r.parts[2] || 'overview';
    const fn = { overview: renderOverview, waterfall: renderWaterfall, events: renderEvents,
      tools: renderTools }[sub];
    if (!fn) throw new Error('no such view: ' + sub);
    return api.run(id).then((data) => fn(view, data, r, ctx));
  },
  compare: (r, ctx) => renderCompare(view, Number(r.parts[1]), Number(r.parts[2]), ctx),
};

async function render() {
  const r = parseRoute();
  if (!r.parts.length) { go('runs'); return; }
  state.route = r;
  state.exporter = null;
  state.keys = null;
  crumbs(r.parts);
  closePanels();
  const ctx = {
    setExporter: (fn) => { state.exporter = fn; },
    setKeys: (fn) => { state.keys = fn; },
    showEvent,
  };
  const t0 = performance.now();
  try {
    await (routes[r.parts[0]] || (() => { throw new Error('no such page'); }))(r, ctx);
  } catch (err) {
    clear(view).append(h('p', { class: 'error' }, String(err.message || err)));
  }
  document.body.dataset.rendered = r.parts.join('/');
  document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
}

// The details panel: every field of one event, fetched with its attributes.
export async function showEvent(runId, index, session) {
  const q = `offset=${index}&limit=1&attrs=1` + (session ? `&session=${encodeURIComponent(session)}` : '');
  const t = await api.get(`runs/${runId}/events?${q}`);
  const [ev] = api.rows(t);
  const body = clear(document.getElementById('details-body'));
  document.getElementById('details-title').textContent = ev ? `${ev.name} #${index}` : 'Event';
  const add = (k, v) => {
    if (v === null || v === undefined || v === '') return;
    body.append(h('dt', {}, k), h('dd', {}, typeof v === 'object' ? JSON.stringify(v, null, 1) : String(v)));
  };
  if (ev) {
    add('time', new Date(ev.time_ms).toISOString());
    for (const [k, v] of Object.entries(ev)) if (k !== 'attrs' && k !== 'time_ms') add(k, v);
    for (const [k, v] of Object.entries(ev.attrs || {})) add('attrs.' + k, v);
  }
  const panel = document.getElementById('details');
  panel.hidden = false;
  panel.dataset.index = String(index);
  document.getElementById('details-close').focus();
}

function closePanels() {
  document.getElementById('details').hidden = true;
  document.getElementById('help').hidden = true;
}

function toggleTheme() {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === 'dark'
    : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'light' : 'dark';
  localStorage.setItem('ccrun-theme', document.documentElement.dataset.theme);
  // Charts and the waterfall take their colours when drawn: draw again.
  render();
}

function onKey(e) {
  if (e.target.matches('input, select, textarea')) {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const r = state.route;
  const run = r && r.parts[0] === 'run' ? r.parts[1] : null;
  const nav = { o: '', w: '/waterfall', e: '/events', t: '/tools' };
  if (e.key === 'Escape') closePanels();
  else if (e.key === '?') document.getElementById('help').hidden = false;
  else if (e.key === 'd') toggleTheme();
  else if (e.key === 'g') go('runs');
  else if (run && e.key in nav) go(`run/${run}${nav[e.key]}`);
  else if (e.key === '/') { const f = view.querySelector('input[type=search]'); if (f) { e.preventDefault(); f.focus(); } }
  else if (state.keys && state.keys(e.key)) { /* the view took it */ }
  else return;
  e.preventDefault();
}

// New runs and new events show up without a restart: a cheap status poll,
// and a re-render of the views that list what changed.
async function poll() {
  try {
    const s = await api.get('');
    const key = `${s.last_run_id}/${s.last_run_events}/${s.last_run_ended_at}`;
    const live = document.getElementById('live');
    live.textContent = '● live';
    if (state.status !== null && key !== state.status) {
      api.forget(s.last_run_id);
      const r = state.route;
      const onRun = r && r.parts[0] === 'run' && Number(r.parts[1]) === s.last_run_id;
      if (r && (r.parts[0] === 'runs' || (onRun && !r.parts[2]))) render();
      else if (onRun) live.textContent = '● new events: reload the view';
    }
    state.status = key;
  } catch {
    document.getElementById('live').textContent = '○ offline';
  }
}

function init() {
  const saved = localStorage.getItem('ccrun-theme');
  if (saved) document.documentElement.dataset.theme = saved;
  window.addEventListener('hashchange', render);
  document.addEventListener('keydown', onKey);
  document.getElementById('theme').addEventListener('click', toggleTheme);
  document.getElementById('details-close').addEventListener('click', closePanels);
  document.getElementById('help-close').addEventListener('click', closePanels);
  document.getElementById('help-button').addEventListener('click', () => {
    document.getElementById('help').hidden = false;
  });
  document.getElementById('exports').addEventListener('click', (e) => {
    const kind = e.target.dataset && e.target.dataset.export;
    if (kind) exportView(kind, state.exporter, state.route);
  });
  render();
  poll();
  setInterval(poll, 2000);
}

init();
