// Where the page is: the URL fragment holds the view and its parameters.
export function parseRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

export function go(path, params) {
  const q = params && [...params].length ? '?' + params.toString() : '';
  location.hash = '#/' + path + q;
}

// Changes the fragment's parameters without a new history entry or a re-render.
export function setParams(params) {
  const { parts } = parseRoute();
  const q = [...params].length ? '?' + params.toString() : '';
  history.replaceState(null, '', '#/' + parts.join('/') + q);
}

