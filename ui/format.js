// Human units, as the terminal views print them.
export function usd(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === 0) return '$0';
  return v < 1 ? '$' + v.toFixed(4) : '$' + v.toFixed(2);
}

export function count(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1000) return String(n);
  if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0) + 'k';
  return (n / 1e6).toFixed(1) + 'M';
}

export function dur(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  if (ms < 3600000) return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  return (ms / 3600000).toFixed(1) + ' h';
}

export function pct(num, den) {
  return den > 0 ? Math.round((100 * num) / den) + '%' : '—';
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// Local date and time, as the terminal views show them.
export function when(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function command(argv) {
  return (argv || []).map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

// A prompt as stored: its text, or its hash and length.
export function prompt(text, hash, length) {
  if (text) return text;
  if (hash) return `#${hash.slice(0, 8)} (${length ?? '?'} chars)`;
  return length !== null && length !== undefined ? `(${length} chars)` : '';
}
