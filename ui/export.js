// Export of the current view: its rows as CSV or JSON lines, its picture
// (the waterfall or the first chart) as PNG. Files are made in the page.
function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function csvCell(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCsv(columns, rows) {
  return [columns, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export function toJsonl(columns, rows) {
  return rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null])))).join('\n') + '\n';
}

function svgToPng(svgEl, name) {
  const text = new XMLSerializer().serializeToString(svgEl);
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  img.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = svgEl.width.baseVal.value * 2;
    canvas.height = svgEl.height.baseVal.value * 2;
    const g = canvas.getContext('2d');
    g.scale(2, 2);
    g.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    canvas.toBlob((b) => download(name + '.png', b), 'image/png');
  };
  img.src = url;
}

export function exportView(kind, exporter) {
  if (!exporter) return;
  const v = exporter();
  if (kind === 'csv') download(v.name + '.csv', new Blob([toCsv(v.columns, v.rows)], { type: 'text/csv' }));
  else if (kind === 'jsonl') download(v.name + '.jsonl', new Blob([toJsonl(v.columns, v.rows)], { type: 'application/x-ndjson' }));
  else if (kind === 'png' && v.svg) svgToPng(v.svg, v.name);
  else if (kind === 'png' && v.canvas) v.canvas.toBlob((b) => download(v.name + '.png', b), 'image/png');
}
