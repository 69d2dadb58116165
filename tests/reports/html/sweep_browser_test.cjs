// End-to-end test of sweep.html (reports/html/sweep_html.cpp) in a real browser, as browser_test.cjs is
// of report.html: Debian's Chromium through playwright-core, each page at 800 px and 1,600 px. At each
// width it checks, against sweep.json (the file next to the page), that
//  - the page loads with no console error or warning, no uncaught error and no network request, and its
//    body becomes data-charts="ready";
//  - each panel of #chart-frontier (success rate against p99 latency, and against cost) drew one point
//    per complete cell, each where the panel's scales put that cell's figures; the panel's line's
//    vertices are the points of the cells no other beats on both of its axes, as many, in x order (ties
//    by success rate), never falling; the ring is
//    drawn once, on the recommended cell, when there is a recommendation, and not at all when there is none;
//  - the recommendation card names the recommended cell with its figures as shown, or says why none is;
//  - #cell-table has one row per cell in order, classed frontier / recommended / unusable as the cell
//    is, its success, min-max, p50, p99, cost and attempts/request equal to the cell's metrics within
//    the rounding of the digits shown, p50 and p99 of a row in one unit, and one recommended row at most;
//  - the page does not scroll sideways, the chart is no wider than its container, and no two visible
//    text labels in the chart overlap;
// and it saves a full-page screenshot per width.
//
//   node sweep_browser_test.cjs --web-dir <reports/html/web> --screenshot-dir <dir> <sweep.html>...
//
// Missing Chromium or node_modules fails the test (CI installs both); it is never skipped.
'use strict';

const fs = require('fs');
const path = require('path');
const { fail, overlappingPairs, parseShown, checkShown, runPages } = require('./browser_common.cjs');

// The panels of #chart-frontier in spec order, by the suffix of their marks' names, and the cell metric
// each puts on x. The page draws a p99 of 0 at 0.001 ms, on the log scale's floor.
const panels = [
  { name: 'latency', x: (m) => Math.max(m.latency_p99_ms, 0.001) },
  { name: 'cost', x: (m) => m.cost_usd },
];
const PX = 0.5;  // how far a drawn position may be from the computed one: Vega writes 3 decimals

// ---------------------------------------------------------------------------------------------------
// What the page drew, read in the page.

// Per panel: its points (cell from the mark's aria-label, which Vega-Lite writes from the tooltip, and
// position), the frontier line's vertices, the rings; and where the panel's scales put each cell.
async function inspectChart(page, expected) {
  return page.evaluate(({ expected, panelNames }) => {
    const div = document.getElementById('chart-frontier');
    const svg = div && div.querySelector('svg');
    const view = window.squallViews && window.squallViews['chart-frontier'];
    const groups = svg ? Array.from(svg.querySelectorAll('g.role-mark')) : [];
    const group = (name) => groups.filter((g) => (g.getAttribute('class') || '').split(/\s+/).includes(name + '_marks'));
    const translate = (el) => {
      const m = (el.getAttribute('transform') || '').match(/translate\(([-\d.e]+),\s*([-\d.e]+)\)/);
      return m ? { x: Number(m[1]), y: Number(m[2]) } : null;
    };
    const cellOf = (el) => {
      const m = (el.getAttribute('aria-label') || '').match(/(?:^|; )cell: (\d+);/);
      return m ? Number(m[1]) : null;
    };
    const symbols = (name) =>
      group(name).flatMap((g) => Array.from(g.children).map((el) => ({ cell: cellOf(el), ...translate(el) })));
    const out = [];
    panelNames.forEach((name, i) => {
      const lines = group('frontier_' + name);
      const paths = lines.flatMap((g) => Array.from(g.children));
      // A Vega line is one path: "M x,y L x,y ..." (an "M" again where a point is undefined).
      const vertices = paths.flatMap((p) =>
        Array.from((p.getAttribute('d') || '').matchAll(/[ML]\s*([-\d.e]+)[ ,]([-\d.e]+)/g)).map((m) => ({ x: Number(m[1]), y: Number(m[2]) })));
      let scaled = null;
      try {
        const xs = view.scale(`concat_${i}_x`);
        const ys = view.scale(`concat_${i}_y`);
        scaled = expected.map((c) => ({ cell: c.cell, x: xs(c.x[i]), y: ys(c.y) }));
      } catch (err) {
        scaled = String(err);
      }
      out.push({
        name,
        groups: { cells: group('cells_' + name).length, frontier: lines.length, recommended: group('recommended_' + name).length },
        points: symbols('cells_' + name),
        rings: symbols('recommended_' + name),
        paths: paths.length,
        vertices,
        scaled,
      });
    });
    return { hasSvg: !!svg, hasView: !!view, error: div && div.classList.contains('chart-error') ? div.textContent : null, panels: out };
  }, { expected, panelNames: panels.map((p) => p.name) });
}

// Geometry: the chart's box against its figure's content box, the page against the window, and the
// boxes of every visible text in the chart (Vega hides an axis label it has no room for: opacity 0).
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
    const div = document.getElementById('chart-frontier');
    const svg = div.querySelector('svg');
    const figure = div.closest('figure') || div.parentElement;
    const fr = figure.getBoundingClientRect();
    const cs = getComputedStyle(figure);
    return {
      svg: svg ? box(svg) : null,
      content: { left: fr.left + parseFloat(cs.paddingLeft), right: fr.right - parseFloat(cs.paddingRight) },
      texts: svg ? Array.from(svg.querySelectorAll('text')).filter((t) => t.textContent.trim() !== '' && visible(t)).map(box) : [],
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    };
  });
}

// The card and the table as text.
async function shownText(page) {
  return page.evaluate(() => {
    const card = document.querySelector('#recommendation .card');
    const rows = Array.from(document.querySelectorAll('#cell-table tbody tr')).map((tr) => ({
      cell: tr.getAttribute('data-cell'),
      classes: Array.from(tr.classList),
      cells: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent),
    }));
    return { card: card ? { none: card.classList.contains('none'), text: card.textContent } : null, rows };
  });
}

// ---------------------------------------------------------------------------------------------------
// Checks.

const near = (a, b) => a && b && Math.abs(a.x - b.x) <= PX && Math.abs(a.y - b.y) <= PX;
const fmt = (p) => (p ? `(${p.x.toFixed(1)}, ${p.y.toFixed(1)})` : 'nowhere');

function checkChart(sweep, drawn, at, problems) {
  const complete = sweep.cells.filter((c) => c.metrics && c.complete);
  const frontier = complete.filter((c) => c.frontier);
  const rec = sweep.recommendation && typeof sweep.recommendation.cell === 'number' ? sweep.recommendation.cell : null;
  if (!drawn.hasSvg) problems.push(`${at}: no SVG drawn`);
  if (!drawn.hasView) problems.push(`${at}: no Vega view`);
  if (drawn.error) problems.push(`${at}: ${drawn.error}`);
  if (frontier.length !== sweep.frontier.length) {
    problems.push(`${at}: sweep.json lists ${sweep.frontier.length} frontier cells, ${frontier.length} complete cells say frontier`);
  }
  let points = 0;
  drawn.panels.forEach((panel, i) => {
    const where = `${at} ${panel.name} panel`;
    // The ring's layer is left out of the spec when no cell is recommended.
    const groupsWanted = { cells: 1, frontier: 1, recommended: rec === null ? 0 : 1 };
    for (const [layer, n] of Object.entries(panel.groups)) {
      if (n !== groupsWanted[layer]) problems.push(`${where}: ${n} mark groups named ${layer}_${panel.name}, expected ${groupsWanted[layer]}`);
    }
    if (typeof panel.scaled === 'string') {
      problems.push(`${where}: no scales concat_${i}_x/_y: ${panel.scaled}`);
      return;
    }
    const place = new Map(panel.scaled.map((s) => [s.cell, s]));
    // One point per complete cell, each where the scales put it.
    if (panel.points.length !== complete.length) problems.push(`${where}: ${panel.points.length} points for ${complete.length} complete cells`);
    const drawnCells = panel.points.map((p) => p.cell).sort((a, b) => a - b);
    const expectedCells = complete.map((c) => c.index);
    if (drawnCells.join() !== expectedCells.join()) problems.push(`${where}: points of cells [${drawnCells}], expected [${expectedCells}]`);
    for (const p of panel.points) {
      if (p.cell !== null && place.has(p.cell) && !near(p, place.get(p.cell))) {
        problems.push(`${where}: cell ${p.cell} drawn at ${fmt(p)}, its figures are at ${fmt(place.get(p.cell))}`);
      }
    }
    points += panel.points.length;
    // The panel's line: one path through the cells no other complete cell beats on both of the panel's axes
    // (success rate and its x), in x order (ties by success rate): a line that only rises.
    const front = complete.filter((c) => !complete.some((o) => {
      const os = o.metrics.success_rate, ox = panels[i].x(o.metrics), cs = c.metrics.success_rate, cx = panels[i].x(c.metrics);
      return os >= cs && ox <= cx && (os > cs || ox < cx);
    }));
    if (panel.paths !== 1) problems.push(`${where}: the trade-off line is ${panel.paths} paths`);
    if (panel.vertices.length !== front.length) {
      problems.push(`${where}: the trade-off line has ${panel.vertices.length} vertices for ${front.length} cells on the panel's front`);
    } else {
      const along = front.map((c) => ({ x: panels[i].x(c.metrics), y: c.metrics.success_rate, at: place.get(c.index) }))
        .sort((a, b) => a.x - b.x || a.y - b.y);
      along.forEach((v, k) => {
        if (!near(panel.vertices[k], v.at)) problems.push(`${where}: line vertex ${k} at ${fmt(panel.vertices[k])}, expected ${fmt(v.at)}`);
        if (k > 0 && along[k].y < along[k - 1].y) problems.push(`${where}: the trade-off line falls at vertex ${k}`);
      });
    }
    // The ring: on the recommended cell, iff there is one.
    if (panel.rings.length !== (rec === null ? 0 : 1)) {
      problems.push(`${where}: ${panel.rings.length} rings, ${rec === null ? 'no recommendation' : 'cell ' + rec + ' recommended'}`);
    } else if (rec !== null) {
      const ring = panel.rings[0];
      if (ring.cell !== rec) problems.push(`${where}: the ring is on cell ${ring.cell}, cell ${rec} is recommended`);
      if (!near(ring, place.get(rec))) problems.push(`${where}: the ring at ${fmt(ring)}, cell ${rec} at ${fmt(place.get(rec))}`);
    }
  });
  return points;
}

// "Cell 6 (retry-breaker: ...): 60.75% success, p99 10.4 s, $5.65, 0.671 attempts/request; why.<br>Run it: ..."
function checkCard(sweep, card, at, problems) {
  const rec = sweep.recommendation || {};
  if (!card) {
    problems.push(`${at}: no recommendation card`);
    return 0;
  }
  if (typeof rec.cell !== 'number') {
    if (!card.none) problems.push(`${at}: no recommendation, but the card is not marked "none"`);
    if (card.text.trim() !== `${rec.why}.`) problems.push(`${at}: the card reads "${card.text.trim()}", sweep.json says "${rec.why}"`);
    return 0;
  }
  if (card.none) problems.push(`${at}: cell ${rec.cell} recommended, but the card is marked "none"`);
  const m = card.text.match(/^Cell (\d+) \(.*\): (\S+) success, p99 (.+?), (\$\S+), (\S+) attempts\/request; (.*)\.Run it: (.*)$/s);
  if (!m) {
    problems.push(`${at}: cannot read the card "${card.text}"`);
    return 0;
  }
  const cell = sweep.cells[rec.cell];
  if (Number(m[1]) !== rec.cell) problems.push(`${at}: the card names cell ${m[1]}, sweep.json recommends ${rec.cell}`);
  if (m[6] !== rec.why) problems.push(`${at}: the card says "${m[6]}", sweep.json "${rec.why}"`);
  if (m[7].trim() !== cell.run) problems.push(`${at}: the card's command "${m[7].trim()}", the cell's "${cell.run}"`);
  const figures = [[m[2], 'success_rate'], [m[3], 'latency_p99_ms'], [m[4], 'cost_usd'], [m[5], 'attempts_per_request']];
  for (const [text, metric] of figures) {
    const p = checkShown(text, cell.metrics[metric], `${at} ${metric}`);
    if (p) problems.push(p);
  }
  return figures.length;
}

function checkTable(sweep, rows, at, problems) {
  const rec = sweep.recommendation && typeof sweep.recommendation.cell === 'number' ? sweep.recommendation.cell : null;
  if (rows.length !== sweep.cells.length) problems.push(`${at}: ${rows.length} rows for ${sweep.cells.length} cells`);
  const recommendedRows = rows.filter((r) => r.classes.includes('recommended')).map((r) => r.cell);
  if (recommendedRows.join() !== (rec === null ? '' : String(rec))) {
    problems.push(`${at}: recommended rows [${recommendedRows}], sweep.json recommends ${rec === null ? 'none' : 'cell ' + rec}`);
  }
  let checked = 0;
  rows.forEach((row, k) => {
    const cell = sweep.cells[k];
    if (!cell) return;
    const where = `${at} cell ${cell.index}`;
    if (row.cell !== String(cell.index)) problems.push(`${where}: row ${k} is data-cell="${row.cell}"`);
    const usable = !!cell.metrics && cell.complete;
    for (const [cls, want] of [['frontier', !!cell.frontier], ['recommended', cell.index === rec], ['unusable', !usable]]) {
      if (row.classes.includes(cls) !== want) problems.push(`${where}: class ${cls} ${want ? 'missing' : 'where it does not belong'}`);
    }
    if (String(row.cells[0]).trim() !== String(cell.index)) problems.push(`${where}: first column reads "${row.cells[0]}"`);
    if (!cell.metrics) {
      if (!/not run/.test(row.cells.slice(2).join(' '))) problems.push(`${where}: a cell not run shows "${row.cells.slice(2).join(' | ')}"`);
      return;
    }
    const m = cell.metrics;
    const [success, range, p50, p99, cost, attempts] = row.cells.slice(2, 8);
    const [low, high] = (range || '').split(' – ');
    const figures = [[success, m.success_rate, 'success'], [low || '', m.success_rate_min, 'min'], [high || '', m.success_rate_max, 'max'],
                     [p50, m.latency_p50_ms, 'p50'], [p99, m.latency_p99_ms, 'p99'], [cost, m.cost_usd, 'cost'],
                     [attempts, m.attempts_per_request, 'attempts/request']];
    for (const [text, value, name] of figures) {
      const p = checkShown(text || '', value, `${where} ${name}`);
      if (p) problems.push(p);
      ++checked;
    }
    const units = new Set([p50, p99].map((t) => (parseShown(t || '') || {}).unit));
    if (units.size > 1) problems.push(`${where}: p50 "${p50}" and p99 "${p99}" in different units`);
    const violations = (cell.violations || []).join('; ');
    const shown = (row.cells[8] || '').trim();
    if (shown !== (violations === '' ? 'met' : violations)) problems.push(`${where}: constraints read "${shown}", sweep.json "${violations}"`);
  });
  return checked;
}

// One page at one window width.
async function checkAt(page, width, loaded, problems) {
  const { target, sweep, name, screenshotDir } = loaded;
  const at = (s) => `@${width}px ${s}`;
  await page.goto(target, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.getAttribute('data-charts') !== null, null, { timeout: 60000 });
  const state = await page.evaluate(() => document.body.getAttribute('data-charts'));
  if (state !== 'ready') problems.push(at(`charts state is ${state}`));

  const expected = sweep.cells.filter((c) => c.metrics && c.complete)
    .map((c) => ({ cell: c.index, x: panels.map((p) => p.x(c.metrics)), y: c.metrics.success_rate }));
  const points = checkChart(sweep, await inspectChart(page, expected), at('#chart-frontier'), problems);

  const g = await geometry(page);
  if (g.scrollWidth > g.innerWidth) problems.push(at(`the page is ${g.scrollWidth}px wide in a ${g.innerWidth}px window`));
  if (g.svg && (g.svg.right > g.content.right + 0.5 || g.svg.left < g.content.left - 0.5)) {
    problems.push(at(`#chart-frontier: drawn from ${g.svg.left} to ${g.svg.right}px, its container from ${g.content.left} to ${g.content.right}px`));
  }
  if (g.svg && g.svg.right - g.svg.left < 300) problems.push(at('#chart-frontier: narrower than 300px'));
  for (const pair of overlappingPairs(g.texts)) problems.push(at(`#chart-frontier: labels ${pair} overlap`));

  const shown = await shownText(page);
  const checked = checkCard(sweep, shown.card, at('card'), problems) + checkTable(sweep, shown.rows, at('#cell-table'), problems);

  const shot = path.join(screenshotDir, `${name}-${width}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  return { points, labels: g.texts.length, checked, shot };
}

function loadSweep(pagePath, screenshotDir) {
  const dir = path.dirname(path.resolve(pagePath));
  const sweep = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8'));
  if (sweep.format !== 'squall-sweep/1') throw new Error(`${dir}/sweep.json is "${sweep.format}", not squall-sweep/1`);
  return { name: path.basename(dir), target: 'file://' + path.resolve(pagePath), sweep, screenshotDir };
}

runPages({
  usage: 'node sweep_browser_test.cjs --web-dir <dir> --screenshot-dir <dir> <sweep.html>...',
  argv: process.argv.slice(2),
  load: loadSweep,
  check: checkAt,
  summarize: (seen) => seen.map((s) => `@${s.width}px ${s.points} points, ${s.labels} labels, ${s.checked} figures`).join('; '),
}).catch((err) => fail(err.stack || String(err)));
