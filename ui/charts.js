// Chart.js (Debian's libjs-chart.js, embedded in ccrun) with the page's
// colours: the Okabe-Ito palette, which stays distinct for colour-blind eyes.
export function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (n) => css.getPropertyValue(n).trim();
  return {
    api: v('--c-api'), sub: v('--c-sub'), aux: v('--c-aux'), tool: v('--c-tool'), error: v('--c-error'),
    accept: v('--c-accept'), reject: v('--c-reject'), prompt: v('--c-prompt'), fg: v('--fg'), grid: v('--grid'), bg: v('--bg'),
    series: [v('--c-api'), v('--c-reject'), v('--c-tool'), v('--c-sub'), v('--c-prompt'), v('--c-error'), v('--c-aux')],
  };
}

// Chart.js is loaded on the first chart, so the runs list never waits for it.
let loading = null;
export function loadCharts() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/lib/chart.min.js';
      s.onload = resolve;
      s.onerror = () => reject(new Error('cannot load Chart.js'));
      document.head.append(s);
    });
  }
  return loading;
}

export function makeChart(canvas, spec) {
  if (!window.Chart) return null;
  const pal = palette();
  const axis = (stacked) => ({ stacked, ticks: { color: pal.fg, maxRotation: 0, autoSkipPadding: 12 }, grid: { color: pal.grid } });
  return new window.Chart(canvas, {
    type: spec.type,
    data: spec.data,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      onClick: spec.onClick,
      plugins: { legend: { labels: { color: pal.fg, boxWidth: 12 } } },
      scales: { x: axis(!!spec.stacked), y: { ...axis(!!spec.stacked), beginAtZero: true } },
    },
  });
}
