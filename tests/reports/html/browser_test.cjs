// End-to-end test of report.html in a real browser: Debian's Chromium, driven by playwright-core from
// reports/html/web/node_modules. For each report given it checks that the page loads with no console
// error and no network request, that every chart drew its data marks, that the fault windows are shaded
// and labelled on every chart over time, and it saves a full-page screenshot next to the report.
//
//   node browser_test.cjs --web-dir <reports/html/web> --screenshot-dir <dir> <report.html>...
//
// Missing Chromium or node_modules fails the test (CI installs both); it is never skipped.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const chromiumPath = process.env.SQUALL_CHROMIUM || '/usr/bin/chromium';

function fail(message) {
  console.error('FAIL: ' + message);
  process.exitCode = 1;
}

function parseArgs(argv) {
  const args = { webDir: null, screenshotDir: null, reports: [] };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--web-dir') args.webDir = argv[++i];
    else if (argv[i] === '--screenshot-dir') args.screenshotDir = argv[++i];
    else args.reports.push(argv[i]);
  }
  return args;
}

// Marks drawn by the layers that carry data, per chart, counted in the SVG that Vega rendered. Vega
// gives each mark group the class of its mark name, so the fault layers can be told from the data.
async function inspectCharts(page) {
  return page.evaluate(() => {
    const out = [];
    for (const div of document.querySelectorAll('div.vega')) {
      const svg = div.querySelector('svg');
      const groups = svg ? Array.from(svg.querySelectorAll('g.role-mark')) : [];
      const count = (pred) =>
        groups.filter((g) => pred(g.getAttribute('class') || '')).reduce((n, g) => n + g.children.length, 0);
      const isFault = (c) => /fault_/.test(c);
      const faultTexts = groups
        .filter((g) => /fault_labels/.test(g.getAttribute('class') || ''))
        .flatMap((g) => Array.from(g.querySelectorAll('text')).map((t) => t.textContent));
      out.push({
        id: div.id,
        hasSvg: !!svg,
        width: svg ? svg.getBoundingClientRect().width : 0,
        dataMarks: count((c) => !isFault(c) && /(^|\s)(data|offered)/.test(c)),
        allMarks: count(() => true),
        faultWindows: count((c) => /fault_windows/.test(c)),
        faultTexts,
        hasView: !!(window.squallViews && window.squallViews[div.id]),
        error: div.classList.contains('chart-error') ? div.textContent : null,
      });
    }
    return out;
  });
}

function unitNames(spec) {
  const names = spec.name ? [spec.name] : [];
  for (const key of ['layer', 'hconcat', 'vconcat']) {
    for (const sub of spec[key] || []) names.push(...unitNames(sub));
  }
  return names;
}

async function checkReport(context, reportPath, screenshotDir) {
  const name = path.basename(path.dirname(path.resolve(reportPath)));
  const label = `${name}/report.html`;
  const html = fs.readFileSync(reportPath, 'utf8');
  const data = JSON.parse(html.match(/<script type="application\/json" id="squall-data">([\s\S]*?)<\/script>/)[1]);
  const charts = JSON.parse(html.match(/<script type="application\/json" id="squall-charts">([\s\S]*?)<\/script>/)[1]);

  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // The report must open offline: any request other than the file itself is a failure.
  const target = 'file://' + path.resolve(reportPath);
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url === target) return route.continue();
    problems.push(`network request: ${url}`);
    return route.abort();
  });

  await page.goto(target, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.getAttribute('data-charts') !== null, null, { timeout: 60000 });
  const state = await page.evaluate(() => document.body.getAttribute('data-charts'));
  if (state !== 'ready') problems.push(`charts state is ${state}`);

  const found = await inspectCharts(page);
  if (found.length !== charts.length) problems.push(`${found.length} chart containers for ${charts.length} specs`);
  const faults = data.faults;
  const configurations = new Set(data.series.map((r) => r.configuration));
  for (const chart of found) {
    const where = `${chart.id}`;
    if (chart.error) problems.push(`${where}: ${chart.error}`);
    if (!chart.hasSvg) problems.push(`${where}: no SVG drawn`);
    if (!chart.hasView) problems.push(`${where}: no Vega view`);
    if (chart.dataMarks === 0 && chart.id !== 'chart-incident') problems.push(`${where}: no data marks drawn`);
    // One bar per row of the outcomes table: each panel draws its own configuration's rows.
    if (chart.id === 'chart-outcomes' && chart.dataMarks !== data.outcomes.length) {
      problems.push(`${where}: ${chart.dataMarks} bars for ${data.outcomes.length} outcome rows`);
    }
    if (chart.width < 300) problems.push(`${where}: only ${chart.width}px wide`);
    if (chart.id === 'chart-spectrum') continue;
    // Every chart over time shades every fault window and labels it.
    // A chart of several panels (one per configuration, one per percentile) shades each of them.
    const spec = charts.find((c) => c.id === chart.id).spec;
    const panels = unitNames(spec).filter((n) => n.startsWith('fault_windows')).length;
    if (chart.faultWindows !== faults.length * panels) {
      problems.push(`${where}: ${chart.faultWindows} shaded fault windows, expected ${faults.length * panels}`);
    }
    if (chart.id !== 'chart-incident') {
      for (const f of faults) {
        if (!chart.faultTexts.includes(f.text)) problems.push(`${where}: fault label "${f.text}" missing`);
      }
    }
  }

  // The Vega View API agrees with the DOM: each view's data sets hold the rows that were embedded.
  const seriesRows = await page.evaluate(() => {
    const view = window.squallViews['chart-latency'];
    return view ? view.data('series').length : -1;
  });
  if (seriesRows !== data.series.length) problems.push(`latency view has ${seriesRows} series rows, expected ${data.series.length}`);

  // The first screen tells the verdict and names every configuration.
  const firstScreen = await page.evaluate(() => {
    const verdict = document.getElementById('verdict');
    const rect = verdict.getBoundingClientRect();
    const table = document.getElementById('summary').getBoundingClientRect();
    return { verdict: verdict.textContent, top: rect.top, tableTop: table.top, cards: document.querySelectorAll('.card').length };
  });
  if (!['PASS', 'FAIL'].includes(firstScreen.verdict)) problems.push(`verdict reads "${firstScreen.verdict}"`);
  if (firstScreen.top > 200) problems.push('verdict is not at the top of the page');
  if (firstScreen.cards !== configurations.size) problems.push(`${firstScreen.cards} cards for ${configurations.size} configurations`);

  fs.mkdirSync(screenshotDir, { recursive: true });
  const shot = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  const firstShot = path.join(screenshotDir, `${name}-first-screen.png`);
  await page.screenshot({ path: firstShot, fullPage: false });
  await page.close();

  const summary = found.map((c) => `${c.id}=${c.dataMarks}`).join(' ');
  if (problems.length === 0) {
    console.log(`ok ${label}: ${found.length} charts (${summary}), ${faults.length} fault windows; screenshot ${shot}`);
    return true;
  }
  for (const p of problems) fail(`${label}: ${p}`);
  return false;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.webDir || !args.screenshotDir || args.reports.length === 0) {
    fail('usage: node browser_test.cjs --web-dir <dir> --screenshot-dir <dir> <report.html>...');
    return;
  }
  const playwrightDir = path.resolve(args.webDir, 'node_modules', 'playwright-core');
  if (!fs.existsSync(playwrightDir)) {
    fail(`${playwrightDir} is missing: run \`npm ci --prefix reports/html/web\``);
    return;
  }
  if (!fs.existsSync(chromiumPath)) {
    fail(`${chromiumPath} is missing: install Debian's Chromium with \`apt-get install -y chromium\``);
    return;
  }
  const { chromium } = require(playwrightDir);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-report-chromium-'));
  const browserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }).catch((err) => {
    fail(`cannot start ${chromiumPath}: ${err.message}`);
    return null;
  });
  if (!browserContext) return;
  let passed = 0;
  let failed = 0;
  try {
    for (const report of args.reports) {
      let ok = false;
      try {
        ok = await checkReport(browserContext, report, args.screenshotDir);
      } catch (err) {
        fail(`${report}: ${err.stack || err}`);
      }
      if (ok) ++passed;
      else ++failed;
    }
  } finally {
    await browserContext.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((err) => fail(err.stack || String(err)));
