// Drives Debian's chromium through the dashboard with playwright-core and
// checks what it shows against ccrun's own JSON. Usage:
//   node ui-check.mjs PLAYWRIGHT-CORE-DIR URL EXPECT.json SHOTS-DIR
// EXPECT.json holds {"runs": N, "last": <ccrun last --json>, "hostile_run": R,
// "hostile_text": "..."}. Exits non-zero on the first failed check.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [pwDir, url, expectPath, shots] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { chromium } = require(pwDir);
const expect = JSON.parse(fs.readFileSync(expectPath, 'utf8'));
const TIMEOUT = 15000;
// Script errors and policy violations seen so far; printed when a check fails.
const problems = [];

function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

function close(a, b) {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

async function shot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: false });
}

// Clicks an export button and returns what was downloaded.
async function download(page, kind, binary = false) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }),
    page.click(`button[data-export="${kind}"]`)]);
  const file = await d.path();
  return binary ? fs.readFileSync(file) : fs.readFileSync(file, 'utf8');
}

async function rendered(page, route) {
  await page.waitForSelector(`body[data-rendered="${route}"]`, { timeout: TIMEOUT });
}

async function checkRuns(page) {
  await page.goto(url);
  await rendered(page, 'runs');
  check(!page.url().includes('token='), 'the token leaves the address bar');
  const cookies = await page.context().cookies();
  const c = cookies.find((k) => k.name.startsWith('ccrun_ui_'));
  check(c && c.httpOnly && c.sameSite === 'Strict', 'the token became an HttpOnly SameSite=Strict cookie');
  const n = await page.locator('table.runs tbody tr').count();
  check(n === expect.runs, `runs listed: ${n} of ${expect.runs}`);
  await page.fill('input[type=search]', 'no-such-command-anywhere');
  check(await page.locator('table.runs tbody tr').count() === 0, 'the text filter hides what does not match');
  await page.fill('input[type=search]', '');
  await shot(page, '1-runs');
  const last = expect.last;
  await page.click(`table.runs tbody tr[data-run="${last.run_id}"] td.ids a`);
  await rendered(page, `run/${last.run_id}/events`);
  const rows = await page.locator('.vscroll .row').count();
  check(rows > 0 && page.url().includes('session=' + last.sessions[0]), `a session's link shows its events (${rows})`);
  await page.goBack();
  await rendered(page, 'runs');
}

async function checkOverview(page) {
  const last = expect.last;
  await page.click(`table.runs tbody tr[data-run="${last.run_id}"] td.num a`);
  await rendered(page, `run/${last.run_id}`);
  const fig = async (key) => Number(await page.getAttribute(`.figure[data-key="${key}"]`, 'data-value'));
  check(close(await fig('cost_usd'), last.cost_usd), `cost matches ccrun last --json (${last.cost_usd})`);
  for (const k of ['input', 'output', 'cache_read', 'cache_creation']) {
    check(await fig('tokens.' + k) === last.tokens[k], `${k} tokens match (${last.tokens[k]})`);
  }
  check(await fig('api_requests') === last.api_requests, `API requests match (${last.api_requests})`);
  const prompts = await page.locator('table.prompts tbody tr').count();
  check(prompts === last.prompts.length, `prompts listed: ${prompts} of ${last.prompts.length}`);
  check(await page.locator('canvas').count() === 4, 'four charts drawn');
  await shot(page, '2-overview');
}

async function checkWaterfall(page) {
  const last = expect.last;
  await page.click('table.prompts tbody tr:first-child a');
  await rendered(page, `run/${last.run_id}/waterfall/0`);
  const bars = await page.locator('svg.waterfall g.bar').count();
  check(bars > 0, `the waterfall has ${bars} bars`);
  const decisions = await page.locator('svg.waterfall g.mark[data-decision]').count();
  check(decisions > 0, `the waterfall marks ${decisions} decisions`);
  await shot(page, '3-waterfall');
  await page.locator('svg.waterfall g.bar').first().click();
  await page.waitForSelector('#details:not([hidden])', { timeout: TIMEOUT });
  const text = await page.textContent('#details-body');
  check(/api_request|tool_result|api_error/.test(text), 'clicking a bar shows the event with all its fields');
  check(text.includes('attrs.'), 'the details include the raw attributes');
  await shot(page, '4-details');
  await page.keyboard.press('Escape');
  await page.keyboard.press('w');
  await page.keyboard.press(']');
  await rendered(page, `run/${last.run_id}/waterfall/1`);
  check(true, 'keys move between prompts');
}

async function checkEvents(page) {
  const last = expect.last;
  await page.keyboard.press('e');
  await rendered(page, `run/${last.run_id}/events`);
  const shown = await page.locator('.vscroll .row').count();
  check(shown > 0 && shown <= last.events, `events rows drawn: ${shown} (of ${last.events})`);
  const chip = page.locator('.chip[data-group="kind"][data-value="api"]');
  const label = await chip.textContent();
  check(Number(label.split(' ').pop()) === last.api_requests, `the api chip counts ${label}`);
  await chip.click();
  check(await page.locator('.vscroll .row').count() === last.api_requests, 'the chip filters the rows');
  check(page.url().includes('kind=api'), 'the filter is in the link');
  await page.locator('.vscroll .row').first().click();
  await page.waitForSelector('#details:not([hidden])', { timeout: TIMEOUT });
  check((await page.textContent('#details-title')).startsWith('api_request'), 'a row opens its details');
  await shot(page, '5-events');
  const csv = await download(page, 'csv');
  check(csv.startsWith('index,time_ms,name,') && csv.trim().split('\n').length === last.api_requests + 1,
    'CSV export holds the filtered rows');
  const jsonl = (await download(page, 'jsonl')).trim().split('\n').map((l) => JSON.parse(l));
  check(jsonl.length === last.api_requests && jsonl.every((e) => e.name === 'api_request'),
    'JSONL export holds the filtered rows as objects');
  await page.keyboard.press('Escape');
  await page.keyboard.press('t');
  await rendered(page, `run/${last.run_id}/tools`);
  await shot(page, '6-tools');
  await page.keyboard.press('d');
  await page.keyboard.press('o');
  await rendered(page, `run/${last.run_id}`);
  check(await page.getAttribute('html', 'data-theme') !== null, 'd switches the theme');
  await shot(page, '7-overview-other-theme');
}

// A prompt holding markup must come out as the same characters, never as elements.
async function checkHostile(page) {
  await page.goto(url.split('?')[0] + `#/run/${expect.hostile_run}/events`);
  await rendered(page, `run/${expect.hostile_run}/events`);
  const cells = await page.locator('.vscroll .row span').allTextContents();
  check(cells.some((t) => t.includes(expect.hostile_text)), 'a prompt with markup is shown as text');
  check(await page.locator('#pwned').count() === 0, 'the markup made no element');
  check(await page.getAttribute('body', 'data-pwned') === null, 'no script in the prompt ran');
  await page.goto(url.split('?')[0] + `#/compare/${expect.hostile_run}/${expect.last.run_id}`);
  await rendered(page, `compare/${expect.hostile_run}/${expect.last.run_id}`);
  await shot(page, '8-compare');
}

// Subagent requests and their tools sit under the Agent call that spans them.
async function checkSubagent(page) {
  const run = expect.subagent_run;
  await page.goto(url.split('?')[0] + `#/run/${run}/waterfall/all`);
  await rendered(page, `run/${run}/waterfall/all`);
  const nested = await page.locator('svg.waterfall g.bar[data-depth="1"]').count();
  check(nested === 5, `subagent requests and tools nested under Agent: ${nested} of 5`);
  const failed = await page.locator('svg.waterfall g.bar[data-failed="1"]').count();
  check(failed === 2, `the failed tool and the API error are marked: ${failed} of 2`);
  check(await page.locator('svg.waterfall g.mark[data-decision="reject"]').count() === 1, 'the rejected tool is marked');
  check(await page.locator('svg.waterfall g.idle').count() >= 1, 'idle time between prompts is squeezed');
  await shot(page, '9-waterfall-subagent');
  const png = await download(page, 'png', true);
  check(png.length > 1000 && png.subarray(1, 4).toString() === 'PNG', `PNG export of the waterfall (${png.length} bytes)`);
  // The README's picture is taken in the light theme.
  if (await page.getAttribute('html', 'data-theme') === 'dark') await page.keyboard.press('d');
  await page.waitForFunction(() => {
    const bg = document.querySelector('svg.waterfall rect');
    return bg && bg.getAttribute('fill') === '#ffffff';
  }, null, { timeout: TIMEOUT });
  await page.mouse.move(0, 0);
  await page.locator('svg.waterfall').screenshot({ path: path.join(shots, 'waterfall.png') });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    // Any script error or Content-Security-Policy violation fails the test.
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    await checkRuns(page);
    await checkOverview(page);
    await checkWaterfall(page);
    await checkEvents(page);
    await checkHostile(page);
    await checkSubagent(page);
    check(problems.length === 0, 'no script errors or policy violations' + (problems.length ? ': ' + problems.join('; ') : ''));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.message || e);
  for (const p of problems) console.error(p);
  process.exit(1);
});
