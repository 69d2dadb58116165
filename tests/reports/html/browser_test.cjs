// End-to-end test of report.html in a real browser: Debian's Chromium, driven by playwright-core from
// reports/html/web/node_modules. Each report is opened at two window widths, 800 px and 1,600 px (one
// browser, one page per width, reused for every report). At each width it checks that
//  - the page loads with no console error and no network request, and every chart drew its data marks;
//  - every chart over time shades every fault window and marks it with its number;
//  - no chart is wider than its container, and the page does not scroll sideways (nothing clipped);
//  - no two visible text labels overlap: within each chart's SVG, and among the cards' lines;
//  - the numbers in the cards and the side-by-side table are the values of results.json (the file next
//    to the report) as shown: each within the rounding of the digits it shows, a share below 1 never
//    "100%", no e-notation, one unit (ms or s) per row, the "± interval" of a multi-seed run equal to
//    half its 95% interval, and every "vs baseline" difference equal to the one computed from the
//    configuration results.json names as that column's baseline (a comparison's "base: X");
// and it saves a full-page screenshot per width next to the report.
//
//   node browser_test.cjs --web-dir <reports/html/web> --screenshot-dir <dir> <report.html>...
//
// Missing Chromium or node_modules fails the test (CI installs both); it is never skipped. What it shares
// with sweep_browser_test.cjs is in browser_common.cjs.
'use strict';

const fs = require('fs');
const path = require('path');
const { fail, overlappingPairs, parseShown, checkShown, runPages } = require('./browser_common.cjs');

// ---------------------------------------------------------------------------------------------------
// What the page drew, read in the page.

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
        faultWindows: count((c) => /fault_windows/.test(c)),
        faultTexts,
        hasView: !!(window.squallViews && window.squallViews[div.id]),
        error: div.classList.contains('chart-error') ? div.textContent : null,
      });
    }
    return out;
  });
}

// Geometry: each chart's box against its container's, the page against the window, and the boxes of
// every visible text (Vega hides an axis label it has no room for by giving it opacity 0).
async function geometry(page) {
  return page.evaluate(() => {
    function visible(el) {
      for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
        const cs = getComputedStyle(e);
        if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) return false;
        const opacity = e.getAttribute('opacity');
        if (opacity !== null && parseFloat(opacity) === 0) return false;
      }
      return true;
    }
    function box(el) {
      const r = el.getBoundingClientRect();
      return { text: el.textContent.trim(), left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }
    const charts = [];
    for (const div of document.querySelectorAll('div.vega')) {
      const svg = div.querySelector('svg');
      const figure = div.closest('figure') || div.parentElement;
      const fr = figure.getBoundingClientRect();
      const cs = getComputedStyle(figure);
      const texts = svg
        ? Array.from(svg.querySelectorAll('text')).filter((t) => t.textContent.trim() !== '' && visible(t)).map(box)
        : [];
      charts.push({
        id: div.id,
        svg: svg ? box(svg) : null,
        content: { left: fr.left + parseFloat(cs.paddingLeft), right: fr.right - parseFloat(cs.paddingRight) },
        texts,
      });
    }
    const cardTexts = Array.from(document.querySelectorAll('#configurations .card > div, #headline'))
      .filter(visible)
      .map(box);
    return {
      charts,
      cardTexts,
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    };
  });
}

// The cards and the side-by-side table as text.
async function shownNumbers(page) {
  return page.evaluate(() => {
    const table = document.querySelector('#summary table');
    const columns = table ? Array.from(table.querySelectorAll('thead th')).slice(1).map((th) => th.textContent) : [];
    const rows = table
      ? Array.from(table.querySelectorAll('tbody tr[data-metric]')).map((tr) => ({
          metric: tr.getAttribute('data-metric'),
          cells: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent),
        }))
      : [];
    const cards = Array.from(document.querySelectorAll('#configurations .card')).map((card) => {
      const part = (cls) => {
        const el = card.querySelector('.' + cls);
        return el ? el.textContent : null;
      };
      return { name: part('card-name'), big: part('card-big'), delta: part('card-delta'), line: part('card-line') };
    });
    return { columns, rows, cards };
  });
}

// ---------------------------------------------------------------------------------------------------
// Checks.

// The configuration results.json measures configurations[i] against (reports/format.hpp baseline_of):
// the one its "baseline" names; none in a comparison for a base-run configuration; else the first.
function baselineOf(configs, i) {
  const c = configs[i];
  if (typeof c.baseline === 'string') {
    const k = configs.findIndex((o, j) => j !== i && o.name === c.baseline);
    if (k >= 0) return k;
  }
  if (configs.some((o) => typeof o.baseline === 'string')) return null;
  return i === 0 ? null : 0;
}

const percentMetrics = new Set(['success_rate', 'degraded_rate', 'error_rate', 'cache_hit_rate']);

// A difference as shown ("+1.20 pp", "-12.5%", "=", "new") against the one computed from base and value.
function checkDelta(text, base, v, metric, where) {
  const t = text.trim();
  if (percentMetrics.has(metric)) {
    if (t === '=') return Math.abs(v - base) < 0.00005 ? null : `${where}: "=" for ${base} -> ${v}`;
    const m = t.match(/^([+-]\d+\.\d+) pp$/);
    if (!m) return `${where}: cannot read difference "${t}"`;
    return Math.abs(Number(m[1]) - (v - base) * 100) <= 0.005 + 1e-9 ? null : `${where}: "${t}" for ${base} -> ${v}`;
  }
  if (base === 0) return (v === 0 ? t === '=' : t === 'new') ? null : `${where}: "${t}" for ${base} -> ${v}`;
  const pct = ((v - base) / Math.abs(base)) * 100;
  if (t === '=') return Math.abs(pct) < 0.05 ? null : `${where}: "=" for ${base} -> ${v}`;
  const m = t.match(/^([+-]\d+\.\d)%$/);
  if (!m) return `${where}: cannot read difference "${t}"`;
  return Math.abs(Number(m[1]) - pct) <= 0.05 + 1e-9 ? null : `${where}: "${t}" for ${base} -> ${v}`;
}

// One table cell or card figure: "412 ms ± 12 ms (+3.0%)" split into its parts.
function splitCell(text) {
  const m = text.trim().match(/^(.*?)(?: ± (.*?))?(?: \((.*)\))?$/);
  return { value: m[1], interval: m[2] || null, delta: m[3] || null };
}

function checkNumbers(results, shown, problems) {
  const configs = results.configurations;
  const names = configs.map((c) => c.name);
  if (shown.columns.length !== configs.length) problems.push(`table has ${shown.columns.length} columns for ${configs.length} configurations`);
  let checked = 0;
  for (const row of shown.rows) {
    const units = new Set();
    row.cells.forEach((cell, i) => {
      const where = `table ${row.metric} / ${names[i]}`;
      const c = configs[i];
      const v = c.summary[row.metric];
      const parts = splitCell(cell);
      const problem = checkShown(parts.value, v, where);
      if (problem) problems.push(problem);
      const shownValue = parseShown(parts.value);
      if (shownValue && (shownValue.unit === 'ms' || shownValue.unit === 's')) units.add(shownValue.unit);
      ++checked;
      const stats = c.summary_stats && c.summary_stats[row.metric];
      if (stats && typeof stats.ci95_low === 'number') {
        const halfWidth = (stats.ci95_high - stats.ci95_low) / 2;
        if (!parts.interval) problems.push(`${where}: a multi-seed run's mean without its interval`);
        else {
          const intervalText = parts.interval.replace(/ pp$/, '%');
          const p = checkShown(intervalText, halfWidth, `${where} interval`);
          if (p) problems.push(p);
        }
      } else if (parts.interval) {
        problems.push(`${where}: an interval "${parts.interval}" where results.json has none`);
      }
      const b = baselineOf(configs, i);
      if (b === null && parts.delta) problems.push(`${where}: a difference "${parts.delta}" without a baseline`);
      if (b !== null) {
        if (!parts.delta) problems.push(`${where}: no difference to its baseline ${names[b]}`);
        else {
          const p = checkDelta(parts.delta, configs[b].summary[row.metric], v, row.metric, `${where} vs ${names[b]}`);
          if (p) problems.push(p);
        }
      }
    });
    if (units.size > 1) problems.push(`table ${row.metric}: one row mixes ms and s`);
  }
  for (const metric of ['success_rate', 'latency_p99_ms', 'cost_usd']) {
    if (!shown.rows.some((r) => r.metric === metric)) problems.push(`table has no ${metric} row`);
  }

  if (shown.cards.length !== configs.length) problems.push(`${shown.cards.length} cards for ${configs.length} configurations`);
  const cardUnits = new Set();
  shown.cards.forEach((card, i) => {
    const c = configs[i];
    if (!c) return;
    const where = `card ${c.name}`;
    if (!card.name.includes(c.name)) problems.push(`${where}: named "${card.name}"`);
    const big = card.big.match(/^(\S+?%)(?: ± (\S+ pp))? success$/);
    if (!big) problems.push(`${where}: cannot read "${card.big}"`);
    else {
      const p = checkShown(big[1], c.summary.success_rate, `${where} success`);
      if (p) problems.push(p);
      ++checked;
    }
    const line = card.line.match(/^p99 (.+?) · cost (.+)$/);
    if (!line) problems.push(`${where}: cannot read "${card.line}"`);
    else {
      for (const [text, metric] of [[line[1], 'latency_p99_ms'], [line[2], 'cost_usd']]) {
        const p = checkShown(text, c.summary[metric], `${where} ${metric}`);
        if (p) problems.push(p);
        ++checked;
      }
      const u = parseShown(line[1]);
      if (u) cardUnits.add(u.unit);
    }
    const b = baselineOf(configs, i);
    if (b === null && card.delta !== null) problems.push(`${where}: "${card.delta}" without a baseline`);
    if (b !== null) {
      const d = card.delta && card.delta.match(/^(.+?) vs (.+)$/);
      if (!d) problems.push(`${where}: no difference to its baseline ${configs[b].name}`);
      else {
        if (d[2] !== configs[b].name) problems.push(`${where}: measured against "${d[2]}", results.json says ${configs[b].name}`);
        const p = checkDelta(d[1], configs[b].summary.success_rate, c.summary.success_rate, 'success_rate', `${where} vs baseline`);
        if (p) problems.push(p);
        ++checked;
      }
    }
  });
  if (cardUnits.size > 1) problems.push('the cards mix ms and s');
  return checked;
}

function unitNames(spec) {
  const names = spec.name ? [spec.name] : [];
  for (const key of ['layer', 'hconcat', 'vconcat', 'concat']) {
    for (const sub of spec[key] || []) names.push(...unitNames(sub));
  }
  return names;
}

// One report at one window width.
async function checkAt(page, width, report, problems) {
  const { target, data, charts, results, name, screenshotDir } = report;
  const where = (s) => `@${width}px ${s}`;
  await page.goto(target, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.getAttribute('data-charts') !== null, null, { timeout: 60000 });
  const state = await page.evaluate(() => document.body.getAttribute('data-charts'));
  if (state !== 'ready') problems.push(where(`charts state is ${state}`));

  const found = await inspectCharts(page);
  if (found.length !== charts.length) problems.push(where(`${found.length} chart containers for ${charts.length} specs`));
  const faults = data.faults;
  for (const chart of found) {
    const at = where(chart.id);
    if (chart.error) problems.push(`${at}: ${chart.error}`);
    if (!chart.hasSvg) problems.push(`${at}: no SVG drawn`);
    if (!chart.hasView) problems.push(`${at}: no Vega view`);
    if (chart.dataMarks === 0 && chart.id !== 'chart-incident') problems.push(`${at}: no data marks drawn`);
    // One bar per row of the outcomes table: each panel draws its own configuration's rows.
    if (chart.id === 'chart-outcomes' && chart.dataMarks !== data.outcomes.length) {
      problems.push(`${at}: ${chart.dataMarks} bars for ${data.outcomes.length} outcome rows`);
    }
    if (chart.width < 300) problems.push(`${at}: only ${chart.width}px wide`);
    if (chart.id === 'chart-spectrum' || chart.id === 'chart-histogram') continue;
    // Every chart over time shades every fault window and marks it with its number; a chart of several
    // panels (one per configuration, one per percentile) shades each of them.
    const spec = charts.find((c) => c.id === chart.id).spec;
    const panels = unitNames(spec).filter((n) => n.startsWith('fault_windows')).length;
    if (chart.faultWindows !== faults.length * panels) {
      problems.push(`${at}: ${chart.faultWindows} shaded fault windows, expected ${faults.length * panels}`);
    }
    for (const f of faults) {
      const label = chart.id === 'chart-incident' ? f.incident_text : f.n;
      if (!chart.faultTexts.includes(label)) problems.push(`${at}: fault window "${label}" not marked`);
    }
  }

  const seriesRows = await page.evaluate(() => {
    const view = window.squallViews['chart-latency'];
    return view ? view.data('series').length : -1;
  });
  if (seriesRows !== data.series.length) problems.push(where(`latency view has ${seriesRows} series rows, expected ${data.series.length}`));

  const g = await geometry(page);
  if (g.scrollWidth > g.innerWidth) problems.push(where(`the page is ${g.scrollWidth}px wide in a ${g.innerWidth}px window`));
  let labels = 0;
  for (const chart of g.charts) {
    if (chart.svg && (chart.svg.right > chart.content.right + 0.5 || chart.svg.left < chart.content.left - 0.5)) {
      problems.push(where(`${chart.id}: drawn from ${chart.svg.left} to ${chart.svg.right}px, its container from ` +
                          `${chart.content.left} to ${chart.content.right}px`));
    }
    if (chart.svg && chart.svg.right > g.innerWidth) problems.push(where(`${chart.id}: runs past the window`));
    labels += chart.texts.length;
    for (const pair of overlappingPairs(chart.texts)) problems.push(where(`${chart.id}: labels ${pair} overlap`));
  }
  for (const pair of overlappingPairs(g.cardTexts)) problems.push(where(`cards: ${pair} overlap`));

  const checked = checkNumbers(results, await shownNumbers(page), problems);
  const firstScreen = await page.evaluate(() => {
    const verdict = document.getElementById('verdict');
    return { verdict: verdict.textContent, top: verdict.getBoundingClientRect().top };
  });
  if (!['PASS', 'FAIL', 'INCOMPLETE'].includes(firstScreen.verdict)) problems.push(where(`verdict reads "${firstScreen.verdict}"`));
  if (firstScreen.top > 200) problems.push(where('verdict is not at the top of the page'));

  const shot = path.join(screenshotDir, `${name}-${width}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  return { charts: found.length, labels, checked, shot };
}

function loadReport(reportPath, screenshotDir) {
  const dir = path.dirname(path.resolve(reportPath));
  const html = fs.readFileSync(reportPath, 'utf8');
  return {
    name: path.basename(dir),
    target: 'file://' + path.resolve(reportPath),
    data: JSON.parse(html.match(/<script type="application\/json" id="squall-data">([\s\S]*?)<\/script>/)[1]),
    charts: JSON.parse(html.match(/<script type="application\/json" id="squall-charts">([\s\S]*?)<\/script>/)[1]),
    results: JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')),
    screenshotDir,
  };
}

function main() {
  return runPages({
    usage: 'node browser_test.cjs --web-dir <dir> --screenshot-dir <dir> <report.html>...',
    argv: process.argv.slice(2),
    load: loadReport,
    check: checkAt,
    summarize: (seen) => seen.map((s) => `@${s.width}px ${s.charts} charts, ${s.labels} labels, ${s.checked} figures`).join('; '),
  });
}

main().catch((err) => fail(err.stack || String(err)));
