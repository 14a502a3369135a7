// geokho viewer: MapLibre GL JS (served by geokho itself, no CDN) showing the
// server's styles (/styles), with a style switcher, one toggle per catalog
// layer, a legend read from the style, and a popup of a feature's public
// fields. All text from the server is put in the page with textContent.
// For tests: window.geokhoMap, window.geokhoReady (resolves when the map is
// idle after its first tiles), window.geokhoStyleReady (the same for the
// latest style switch) and window.geokhoErrors (map errors).
(() => {
  'use strict';
  const DEFAULT_STYLE = 'cadastral';
  const $ = (id) => document.getElementById(id);
  const hidden = new Set(); // catalog layers switched off by the user
  let catalog = new Map(); // layer id -> catalog entry (public layers only)
  let map;
  let popup; // the open popup, if any
  let readyFns;

  window.geokhoErrors = [];
  window.geokhoReady = new Promise((resolve, reject) => { readyFns = { resolve, reject }; });
  window.geokhoStyleReady = window.geokhoReady;

  function status(text, isError = false) {
    $('status').textContent = text;
    $('status').classList.toggle('error', isError);
  }

  async function getJson(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }

  const el = (tag, props = {}, ...children) => {
    const e = Object.assign(document.createElement(tag), props);
    e.append(...children);
    return e;
  };

  function unionBounds(layers) {
    const bs = layers.map((l) => l.bounds).filter(Boolean);
    if (!bs.length) return undefined;
    return [
      [Math.min(...bs.map((b) => b[0])), Math.min(...bs.map((b) => b[1]))],
      [Math.max(...bs.map((b) => b[2])), Math.max(...bs.map((b) => b[3]))],
    ];
  }

  // Styles ask for "hatch-rrggbb" patterns; they are drawn here, so no sprite is needed.
  function hatch(id) {
    const m = /^hatch-([0-9a-f]{6})$/.exec(id);
    if (!m) return null;
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16));
    const n = 16;
    const data = new Uint8Array(n * n * 4);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        data.set((x + y) % 8 < 2 ? [r, g, b, 230] : [r, g, b, 30], (y * n + x) * 4);
      }
    }
    return { width: n, height: n, data };
  }

  const styleLayers = () => map.getStyle().layers.filter((l) => l['source-layer']);

  function applyVisibility() {
    for (const l of styleLayers()) {
      map.setLayoutProperty(l.id, 'visibility', hidden.has(l['source-layer']) ? 'none' : 'visible');
    }
  }

  function buildToggles() {
    const present = new Set(styleLayers().map((l) => l['source-layer']));
    const box = $('layers');
    box.replaceChildren(el('legend', { textContent: 'Lớp dữ liệu' }));
    for (const [id, l] of catalog) {
      const input = el('input', { type: 'checkbox', value: id, checked: !hidden.has(id), disabled: !present.has(id) });
      input.addEventListener('change', () => {
        if (input.checked) hidden.delete(id); else hidden.add(id);
        applyVisibility();
      });
      const label = el('label', { title: present.has(id) ? id : `${id}: không có trong kiểu bản đồ này` }, input, ` ${l.title}`);
      if (!present.has(id)) label.classList.add('absent');
      box.append(label);
    }
  }

  // Legend entries of a `match` or `step` colour expression.
  function legendEntries(expr, labels) {
    if (!Array.isArray(expr)) return [];
    const out = [];
    if (expr[0] === 'match') {
      for (let i = 2; i < expr.length - 1; i += 2) {
        for (const v of [].concat(expr[i])) out.push([expr[i + 1], v, labels[v] ?? '']);
      }
    } else if (expr[0] === 'step') {
      const stops = expr.slice(3).filter((_, i) => i % 2 === 0);
      out.push([expr[2], `< ${stops[0]}`, '']);
      stops.forEach((s, i) => out.push([expr[4 + 2 * i], i + 1 < stops.length ? `${s}–${stops[i + 1]}` : `≥ ${s}`, '']));
    }
    return out;
  }

  function buildLegend() {
    const box = $('legend');
    box.replaceChildren();
    for (const l of styleLayers()) {
      const title = l.metadata?.['geokho:legend'];
      if (!title) continue;
      const paint = l.paint ?? {};
      const color = paint['fill-color'] ?? paint['circle-color'] ?? paint['line-color'];
      const items = legendEntries(color, l.metadata['geokho:labels'] ?? {});
      if (!items.length) continue;
      const ul = el('ul');
      for (const [c, code, name] of items) {
        const sw = el('span', { className: 'sw' });
        sw.style.background = c;
        const text = name ? [el('code', { textContent: code }), name] : [code];
        ul.append(el('li', { title: name || code }, sw, ...text));
      }
      box.append(el('details', { open: true }, el('summary', { textContent: title }), ul));
    }
  }

  // Points and polygons answer a click before lines.
  const RANK = { circle: 0, fill: 1, line: 2 };

  function showPopup(e) {
    const ids = styleLayers().filter((l) => l.type in RANK).map((l) => l.id);
    const hits = map.queryRenderedFeatures(e.point, { layers: ids })
      .filter((f) => catalog.has(f.sourceLayer))
      .sort((a, b) => RANK[a.layer.type] - RANK[b.layer.type]);
    if (!hits.length) return;
    const f = hits[0];
    const layer = catalog.get(f.sourceLayer);
    const rows = layer.fields
      .filter((fd) => fd.name in f.properties)
      .map((fd) => el('tr', {}, el('th', { textContent: fd.name }), el('td', { textContent: String(f.properties[fd.name] ?? '—') })));
    const node = el('div', { className: 'geokho-popup' }, el('h3', { textContent: layer.title }), el('table', {}, ...rows));
    popup?.remove();
    popup = new maplibregl.Popup({ maxWidth: '340px' }).setLngLat(e.lngLat).setDOMContent(node).addTo(map);
  }

  // A promise resolved when the map is idle after the style now loading.
  function whenStyleIdle() {
    return new Promise((resolve) => map.once('style.load', () => map.once('idle', resolve)));
  }

  function switchStyle(id) {
    const ready = whenStyleIdle().then(() => status(`${catalog.size} lớp · ${$('style').selectedOptions[0].text}`));
    popup?.remove();
    map.setStyle(`styles/${encodeURIComponent(id)}.json`, { diff: false });
    history.replaceState(null, '', `?style=${encodeURIComponent(id)}`);
    return ready;
  }

  async function main() {
    if (typeof maplibregl === 'undefined') throw new Error('MapLibre GL JS did not load: run npm ci --prefix web');
    const [cat, styles] = await Promise.all([getJson('catalog'), getJson('styles')]);
    catalog = new Map(cat.layers.map((l) => [l.id, l]));
    const ids = styles.styles.map((s) => s.id);
    const wanted = new URLSearchParams(location.search).get('style');
    const first = ids.includes(wanted) ? wanted : DEFAULT_STYLE;
    const select = $('style');
    for (const s of styles.styles) select.append(new Option(s.title || s.id, s.id, false, s.id === first));

    map = new maplibregl.Map({
      container: 'map',
      style: `styles/${first}.json`,
      bounds: unionBounds(cat.layers),
      fitBoundsOptions: { padding: { top: 30, bottom: 30, right: 60, left: $('panel').offsetWidth + 30 } },
      attributionControl: { compact: true },
    });
    window.geokhoMap = map;
    map.addControl(new maplibregl.NavigationControl(), 'top-right');
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
    map.on('error', (e) => {
      const msg = e.error?.message ?? String(e.error ?? 'map error');
      window.geokhoErrors.push(msg);
      console.error(`geokho map error: ${msg}`);
      status(msg, true);
    });
    map.on('styleimagemissing', (e) => {
      const img = hatch(e.id);
      if (img && !map.hasImage(e.id)) map.addImage(e.id, img);
    });
    map.on('style.load', () => { applyVisibility(); buildToggles(); buildLegend(); });
    map.on('click', showPopup);
    map.on('mousemove', (e) => {
      const ids = styleLayers().filter((l) => l.type in RANK).map((l) => l.id);
      map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers: ids }).length ? 'pointer' : '';
    });
    select.addEventListener('change', () => { window.geokhoStyleReady = switchStyle(select.value); });
    await whenStyleIdle();
    status(`${catalog.size} lớp · ${select.selectedOptions[0].text}`);
  }

  main().then(() => readyFns.resolve(true), (e) => {
    status(`Lỗi: ${e.message}`, true);
    readyFns.reject(e);
  });
})();
