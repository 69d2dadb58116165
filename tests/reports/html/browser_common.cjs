// What the browser tests of squall's pages share (browser_test.cjs for report.html, sweep_browser_test.cjs
// for sweep.html): the command line, Debian's Chromium driven by playwright-core from
// reports/html/web/node_modules at two window widths, the page's console and network watched, how text
// boxes overlap, and how a number shown on a page is read back and compared with the file it came from.
//
// Missing Chromium or node_modules fails the test (CI installs both); it is never skipped.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const chromiumPath = process.env.SQUALL_CHROMIUM || '/usr/bin/chromium';
const widths = [800, 1600];

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

function overlaps(a, b) {
  // Boxes of SVG text include the font's ascent and descent: touching lines overlap by a pixel or so.
  const slack = 1;
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return w > slack && h > slack;
}

function overlappingPairs(boxes) {
  const pairs = [];
  for (let i = 0; i < boxes.length; ++i) {
    for (let j = i + 1; j < boxes.length; ++j) {
      if (overlaps(boxes[i], boxes[j])) pairs.push(`"${boxes[i].text}" and "${boxes[j].text}"`);
    }
  }
  return pairs;
}

// A number as the page shows it: its value, how far from the true value its rounding may put it, and its
// unit ('%', 'ms', 'usd', '' for a plain number). `bound` marks ">99.99%"-style figures.
function parseShown(text) {
  const t = text.trim();
  let m;
  const decimalsOf = (s) => (s.includes('.') ? s.split('.')[1].length : 0);
  const half = (s) => 0.5 * Math.pow(10, -decimalsOf(s));
  if ((m = t.match(/^([<>])(\d+(?:\.\d+)?)%$/))) return { bound: m[1], value: Number(m[2]) / 100, unit: '%' };
  if ((m = t.match(/^(-?\d+(?:\.\d+)?)%$/))) return { value: Number(m[1]) / 100, tol: half(m[1]) / 100, unit: '%' };
  if ((m = t.match(/^(-?\d+(?:\.\d+)?) ms$/))) return { value: Number(m[1]), tol: half(m[1]), unit: 'ms' };
  if ((m = t.match(/^(-?\d+(?:\.\d+)?) s$/))) return { value: Number(m[1]) * 1000, tol: half(m[1]) * 1000, unit: 's' };
  if ((m = t.match(/^\$(-?[\d,]+(?:\.\d+)?)$/))) {
    const s = m[1].replace(/,/g, '');
    return { value: Number(s), tol: half(s), unit: 'usd' };
  }
  if ((m = t.match(/^(-?\d+(?:\.\d+)?)$/))) return { value: Number(m[1]), tol: half(m[1]), unit: '' };
  return null;
}

// Whether `text` shows `actual`; a message saying why not, or null.
function checkShown(text, actual, where) {
  if (/\de[-+]?\d/i.test(text)) return `${where}: "${text}" is in e-notation`;
  const shown = parseShown(text);
  if (!shown) return `${where}: cannot read "${text}"`;
  if (typeof actual !== 'number') return `${where}: shows "${text}" but the file has no number`;
  if (shown.bound === '>') return actual > shown.value && actual < 1 ? null : `${where}: "${text}" for ${actual}`;
  if (shown.bound === '<') return actual < shown.value && actual > 0 ? null : `${where}: "${text}" for ${actual}`;
  if (shown.unit === '%' && shown.value === 1 && actual !== 1) return `${where}: "${text}" for ${actual}, which is not 1`;
  if (shown.unit === '%' && shown.value === 0 && actual !== 0) return `${where}: "${text}" for ${actual}, which is not 0`;
  if (Math.abs(shown.value - actual) > shown.tol * (1 + 1e-9) + 1e-12) return `${where}: "${text}" for ${actual}`;
  return null;
}

// Opens every page at every width and runs `check` on it; prints one "ok" line per page that passed and
// every problem of the others, then the counts. A console error or warning, an uncaught error or a
// request for anything but the page itself is a problem of the page being checked.
//   load(pagePath) -> the page's description, passed to check (its `target` is the file:// address)
//   check(page, width, loaded, problems) -> what was seen at that width, passed to summarize
//   summarize(seen) -> the text of the "ok" line
async function runPages({ usage, argv, load, check, summarize }) {
  const args = parseArgs(argv);
  if (!args.webDir || !args.screenshotDir || args.reports.length === 0) {
    fail(`usage: ${usage}`);
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
  fs.mkdirSync(args.screenshotDir, { recursive: true });
  const { chromium } = require(playwrightDir);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-report-chromium-'));
  const browserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: widths[0], height: 900 },
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
    // One page per width, reused for every report.
    const targets = new Set(args.reports.map((r) => 'file://' + path.resolve(r)));
    const pages = [];
    let problems = [];
    for (const width of widths) {
      const page = await browserContext.newPage();
      await page.setViewportSize({ width, height: 900 });
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`@${width}px console ${msg.type()}: ${msg.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`@${width}px page error: ${err.message}`));
      // The page must open offline: any request other than the file itself is a failure.
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (targets.has(url)) return route.continue();
        problems.push(`@${width}px network request: ${url}`);
        return route.abort();
      });
      pages.push({ width, page });
    }
    for (const reportPath of args.reports) {
      problems = [];
      const seen = [];
      try {
        const loaded = load(reportPath, args.screenshotDir);
        for (const { width, page } of pages) seen.push({ width, ...(await check(page, width, loaded, problems)) });
      } catch (err) {
        problems.push(err.stack || String(err));
      }
      if (problems.length === 0) {
        ++passed;
        console.log(`ok ${reportPath}: ${summarize(seen)}; screenshots ${seen.map((s) => s.shot).join(' ')}`);
      } else {
        ++failed;
        for (const p of problems) fail(`${reportPath}: ${p}`);
      }
    }
  } finally {
    await browserContext.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

module.exports = { chromiumPath, widths, fail, parseArgs, overlaps, overlappingPairs, parseShown, checkShown, runPages };
