// The read-only JSON API under /api/v1/. Big lists come as columns + rows;
// rows() turns them into objects for the views that want names.
export async function get(path) {
  const r = await fetch('/api/v1/' + path, { credentials: 'same-origin' });
  if (!r.ok) {
    let why = r.statusText;
    try { why = (await r.json()).error || why; } catch { /* not JSON */ }
    throw new Error(`${r.status} ${why}`);
  }
  return r.json();
}

export function rows(table) {
  const cols = table.columns || [];
  return (table.rows || []).map((r) => {
    const o = {};
    cols.forEach((c, i) => { o[c] = r[i]; });
    return o;
  });
}

// A run's data, fetched once per visit and shared by its views.
const cache = new Map();

export async function run(id, fresh = false) {
  if (!fresh && cache.has(id)) return cache.get(id);
  const [summary, events, prompts, series, tools, errors] = await Promise.all([
    get(`runs/${id}`), get(`runs/${id}/events?limit=0`), get(`runs/${id}/prompts`),
    get(`runs/${id}/series`), get(`runs/${id}/tools`), get(`runs/${id}/errors`),
  ]);
  const data = { id, summary, events, prompts: rows(prompts), series, tools: rows(tools),
    errors: rows(errors) };
  cache.set(id, data);
  return data;
}

export function forget(id) {
  if (id === undefined) cache.clear(); else cache.delete(id);
}
