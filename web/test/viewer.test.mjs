// Headless-Chromium test of the geokho viewer, run by tests/browser.rs:
//   node web/test/viewer.test.mjs BASE_URL SCREENSHOT.png
// Loads BASE_URL/, waits for window.geokhoReady, counts the parcels drawn,
// clicks one and reads its popup, saves SCREENSHOT.png (and one PNG per other
// style beside it), then prints one JSON line:
//   {"parcels": N, "popup": "...", "screenshot": "...", "styles": {...}}
// Exits non-zero on any failure, page error, console error, failed or >= 400
// request to the server, or request to anywhere else (those are aborted).
import { chromium } from 'playwright-core';

const [base, shot] = process.argv.slice(2);
if (!base || !shot) {
  console.error('usage: node web/test/viewer.test.mjs BASE_URL SCREENSHOT.png');
  process.exit(2);
}
const PARCELS = 'thua_dat-fill';
const LIMIT_MS = 60_000;
const watchdog = setTimeout(() => {
  console.error(`viewer test: no result after ${LIMIT_MS / 1000} s`);
  process.exit(1);
}, LIMIT_MS);

const failures = [];
// Rejects at the first failure, so a broken page fails fast instead of timing out.
let firstFailure;
const failed = new Promise((_, reject) => { firstFailure = reject; });
failed.catch(() => {});
const fail = (msg) => { failures.push(msg); firstFailure(new Error(msg)); };
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Awaits the promise window[name] in the page, failing after `ms`.
function awaitInPage(page, name, ms) {
  return Promise.race([failed, page.evaluate(([name, ms]) => Promise.race([
    window[name],
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} not resolved in ${ms} ms`)), ms)),
  ]), [name, ms])]);
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => fail(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') fail(`console error: ${m.text()}`); });
  page.on('requestfailed', (r) => {
    if (r.url().startsWith(base)) fail(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on('response', (r) => {
    if (r.url().startsWith(base) && r.status() >= 400) fail(`HTTP ${r.status()} for ${r.url()}`);
  });
  await page.route((url) => !url.href.startsWith(base), (route) => {
    fail(`request outside the server: ${route.request().url()}`);
    return route.abort();
  });

  const t0 = Date.now();
  await page.goto(`${base}/`, { waitUntil: 'load', timeout: 20_000 });
  await awaitInPage(page, 'geokhoReady', 30_000);
  const readyMs = Date.now() - t0;

  // Distinct parcels drawn (a parcel cut by tile edges comes back once per tile).
  const parcels = await page.evaluate((layer) => new Set(window.geokhoMap
    .queryRenderedFeatures({ layers: [layer] })
    .map((f) => `${f.properties.ma_xa}/${f.properties.so_to}/${f.properties.so_thua}`)).size, PARCELS);
  if (!(parcels > 0)) throw new Error(`no parcels drawn in layer ${PARCELS}`);

  // A point, near the middle of the map and clear of the panel, where one parcel and nothing else is.
  const target = await page.evaluate((layer) => {
    const map = window.geokhoMap;
    const { width, height } = map.getCanvas().getBoundingClientRect();
    const panel = document.getElementById('panel').getBoundingClientRect();
    for (let r = 0; r < Math.max(width, height) / 2; r += 12) {
      for (let a = 0; a < 360; a += r ? 15 : 360) {
        const x = Math.round(width / 2 + r * Math.cos(a * Math.PI / 180));
        const y = Math.round(height / 2 + r * Math.sin(a * Math.PI / 180));
        if (x < 0 || y < 0 || x >= width || y >= height || (x <= panel.right + 10 && y <= panel.bottom + 10)) continue;
        const hits = map.queryRenderedFeatures([[x - 4, y - 4], [x + 4, y + 4]]).filter((f) => f.sourceLayer);
        if (hits.length && hits.every((f) => f.layer.id === layer) &&
          new Set(hits.map((f) => f.properties.so_thua)).size === 1 && hits[0].properties.dia_chi) {
          return { x, y, dia_chi: hits[0].properties.dia_chi };
        }
      }
    }
    return null;
  }, PARCELS);
  if (!target) throw new Error('found no point with a single parcel to click');
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + target.x, box.y + target.y);
  const popupBox = page.locator('.maplibregl-popup-content');
  await popupBox.waitFor({ state: 'visible', timeout: 5_000 });
  const popup = (await popupBox.innerText()).replace(/\s+/g, ' ').trim();
  if (!popup.includes(target.dia_chi)) throw new Error(`popup lacks the parcel's address '${target.dia_chi}': ${popup}`);
  if (!popup.includes('thành phố Mỹ Tho')) throw new Error(`popup lacks 'thành phố Mỹ Tho': ${popup}`);
  for (const secret of ['ten_chu', 'so_gcn']) {
    if (popup.includes(secret)) throw new Error(`popup shows the restricted field ${secret}`);
  }
  await page.screenshot({ path: shot });

  // Every other style draws something without errors.
  const styles = {};
  for (const id of ['base', 'planning', 'logistics']) {
    await page.selectOption('#style', id);
    await awaitInPage(page, 'geokhoStyleReady', 20_000);
    styles[id] = await page.evaluate(() => window.geokhoMap.queryRenderedFeatures().filter((f) => f.sourceLayer).length);
    if (!(styles[id] > 0)) throw new Error(`style ${id} draws no feature`);
    await page.screenshot({ path: shot.replace(/\.png$/, `-${id}.png`) });
  }
  const mapErrors = await page.evaluate(() => window.geokhoErrors);
  failures.push(...mapErrors.map((e) => `map error: ${e}`));
  if (failures.length) throw new Error(failures.join('\n'));
  console.log(JSON.stringify({ parcels, popup, screenshot: shot, ready_ms: readyMs, styles }));
} catch (e) {
  console.error(`viewer test failed: ${e.message}`);
  for (const f of failures) if (!e.message.includes(f)) console.error(f);
  process.exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(watchdog);
}
