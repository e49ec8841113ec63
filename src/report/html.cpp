// The report's page: one HTML file with the data, Chart.js and the code that
// draws the charts inlined, so it opens anywhere without a network.
#include <string>

#include "report/report.hpp"

namespace stratum::report {

// Chart.js from Debian (libjs-chart.js), inlined when Stratum was built.
extern const char* const kChartJs;
extern const char* const kChartJsVersion;

namespace {

// JSON inside <script>: every `<` written as \u003c (it occurs only inside
// strings), so no text of the data — `</script>`, `<!--`, `<script` — can
// end the element early or change how the browser reads it.
std::string script_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr const char* kStyle = R"css(
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 24px 32px; color: #1f2933; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
h2 { font-size: 18px; margin: 32px 0 8px 0; border-bottom: 1px solid #d9e2ec; padding-bottom: 4px; }
header dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; font-size: 13px; }
header dt { color: #52606d; }
header dd { margin: 0; font-family: monospace; }
.counts { display: flex; gap: 24px; margin: 12px 0; }
.counts div { background: #f0f4f8; padding: 8px 16px; border-radius: 4px; }
.counts b { display: block; font-size: 22px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; }
figure.chart { margin: 0; width: 560px; }
figure.chart.wide { width: 860px; }
figure.chart .plot { position: relative; width: 100%; }
figcaption { font-weight: bold; margin-bottom: 4px; }
details { font-size: 12px; margin-top: 4px; }
table { border-collapse: collapse; font-size: 12px; }
td, th { border: 1px solid #d9e2ec; padding: 2px 6px; text-align: left; }
td.n { text-align: right; font-family: monospace; }
.none { color: #52606d; font-style: italic; }
)css";

// Draws every chart from the data block; writes what it drew into the DOM
// (data-charts on <body>) so a browser test can read it.
constexpr const char* kScript = R"js(
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('stratum-data').textContent);
  const palette = ['#2f6fab', '#e07b39', '#3a9d5d', '#c2403f', '#8064a2', '#8c6d31', '#d462a6', '#6b6b6b', '#b5bd3a', '#2bb3c0'];
  const fmt = n => Number(n).toLocaleString('en-US');
  const pct = (n, d) => d ? (100 * n / d).toFixed(1) + '%' : '–';
  let made = 0;
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  // A figure: its title, the chart in a box of the given height, its numbers.
  function figure(section, id, title, wide, height) {
    const f = el('figure', {'class': 'chart' + (wide ? ' wide' : ''), 'data-chart': id});
    f.appendChild(el('figcaption', {}, title));
    const box = el('div', {'class': 'plot', 'style': 'height: ' + (height || (wide ? 520 : 300)) + 'px'});
    const c = el('canvas', {});
    box.appendChild(c);
    f.appendChild(box);
    document.getElementById(section).appendChild(f);
    return [f, c];
  }
  function none(section, text) {
    document.getElementById(section).appendChild(el('p', {'class': 'none'}, text));
  }
  function numbers(f, header, rows) {
    const d = el('details', {});
    d.appendChild(el('summary', {}, 'numbers'));
    const t = el('table', {});
    const h = el('tr', {});
    header.forEach(x => h.appendChild(el('th', {}, x)));
    t.appendChild(h);
    rows.forEach(r => {
      const tr = el('tr', {});
      r.forEach((x, i) => tr.appendChild(el('td', typeof x === 'number' ? {'class': 'n', 'data-value': String(x)} : {}, typeof x === 'number' ? fmt(x) : x)));
      t.appendChild(tr);
    });
    d.appendChild(t);
    f.appendChild(d);
  }
  function chart(canvas, config) {
    config.options = Object.assign({animation: false, responsive: true, maintainAspectRatio: false}, config.options || {});
    new Chart(canvas, config);
    canvas.closest('figure').setAttribute('data-rendered', '1');
    made += 1;
  }
  function distribution(section, id, title, values, total) {
    const [f, c] = figure(section, id, title, false, Math.max(160, 40 + 26 * values.length));
    chart(c, {
      type: 'bar',
      data: {labels: values.map(v => v.value), datasets: [{label: 'customers', data: values.map(v => v.count), backgroundColor: palette[0]}]},
      options: {indexAxis: 'y', plugins: {legend: {display: false},
        tooltip: {callbacks: {label: ctx => fmt(ctx.raw) + ' customers (' + pct(ctx.raw, total) + ')'}}}}
    });
    numbers(f, ['value', 'customers', 'share'], values.map(v => [v.value, v.count, pct(v.count, total)]));
  }

  const h = data.header;
  // Distributions of the segment and every enum decision, then the plan's items.
  data.decisions.forEach((d, i) => distribution('decisions', 'decision:' + d.name, d.name + (d.segment ? ' (segment)' : ''), d.values, h.decided));
  data.plan.forEach((p, i) => {
    if (p.distinct) none('plan', p.name + ': ' + p.distinct + ' distinct values (one per customer, or nearly): not charted.');
    else distribution('plan', 'plan:' + p.name, p.name, p.values, h.decided);
  });

  // Grids: a sample of customers over the two axes, the cells drawn and labelled.
  if (!data.grids.length) none('grids', 'These rules have no grid over two plottable values.');
  if (!data.scorecards.length) none('scorecards', 'These rules have no scorecard.');
  if (!data.plan.length) none('plan', 'These rules have no service plan.');
  data.grids.forEach(g => {
    const [f, c] = figure('grids', 'grid:' + g.name, g.name + ' — ' + g.y + ' × ' + g.x + ' (' + fmt(g.sample.length) + ' of ' + fmt(g.customers) + ' customers shown)', true);
    const xs = g.sample.map(p => p[0]).concat(g.cells.flatMap(c => [c.x0, c.x1]).filter(v => v !== null));
    const ys = g.sample.map(p => p[1]).concat(g.cells.flatMap(c => [c.y0, c.y1]).filter(v => v !== null));
    const span = (v) => { let lo = v.reduce((a, b) => Math.min(a, b)), hi = v.reduce((a, b) => Math.max(a, b)); if (!(hi > lo)) { hi = lo + 1; } const m = (hi - lo) * 0.08; return [lo - m, hi + m]; };
    // A date axis shows dates (its values are days since 1970-01-01).
    const day = v => new Date(Math.round(v) * 86400000).toISOString().slice(0, 10);
    const tick = kind => kind === 'date' ? (v => day(v)) : (v => fmt(v));
    const [xlo, xhi] = xs.length ? span(xs) : [0, 1];
    const [ylo, yhi] = ys.length ? span(ys) : [0, 1];
    const box = c => ({x0: c.x0 === null ? xlo : c.x0, x1: c.x1 === null ? xhi : c.x1, y0: c.y0 === null ? ylo : c.y0, y1: c.y1 === null ? yhi : c.y1});
    const datasets = g.cells.map((cell, k) => ({
      type: 'scatter', label: cell.label, data: g.sample.filter(p => p[2] === k).map(p => ({x: p[0], y: p[1]})),
      backgroundColor: palette[k % palette.length], pointRadius: 2.5
    }));
    const lines = [];
    g.cells.forEach(cell => {
      const b = box(cell);
      [[b.x0, b.y0, b.x1, b.y0], [b.x0, b.y1, b.x1, b.y1], [b.x0, b.y0, b.x0, b.y1], [b.x1, b.y0, b.x1, b.y1]].forEach(s =>
        lines.push({type: 'line', label: '', data: [{x: s[0], y: s[1]}, {x: s[2], y: s[3]}], borderColor: '#9aa5b1', borderWidth: 1,
                    pointRadius: 0, pointHitRadius: 0, showLine: true, fill: false}));
    });
    const labels = {id: 'cellLabels', afterDatasetsDraw(chart) {
      const ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y;
      ctx.save();
      ctx.font = '12px "Noto Sans CJK SC", sans-serif';
      ctx.textAlign = 'center';
      ctx.fillStyle = '#1f2933';
      g.cells.forEach(cell => {
        const b = box(cell);
        ctx.fillText(cell.label + ' · ' + fmt(cell.count), x.getPixelForValue((b.x0 + b.x1) / 2), y.getPixelForValue((b.y0 + b.y1) / 2));
      });
      ctx.restore();
    }};
    chart(c, {
      type: 'scatter', data: {datasets: datasets.concat(lines)}, plugins: [labels],
      options: {scales: {x: {type: 'linear', min: xlo, max: xhi, title: {display: true, text: g.x}, ticks: {callback: tick(g.x_kind)}},
                         y: {type: 'linear', min: ylo, max: yhi, title: {display: true, text: g.y}, ticks: {callback: tick(g.y_kind)}}},
                plugins: {legend: {labels: {filter: item => item.text !== ''}},
                          tooltip: {filter: item => item.dataset.label !== '',
                                    callbacks: {label: ctx => ctx.dataset.label + ': ' + g.x + ' ' + tick(g.x_kind)(ctx.parsed.x) + ', ' + g.y + ' ' + tick(g.y_kind)(ctx.parsed.y)}}}}
    });
    numbers(f, ['cell', g.x + ' from', 'to', g.y + ' from', 'to', 'customers'],
            g.cells.map(c => [c.label, c.x0 === null ? '' : String(c.x0), c.x1 === null ? '' : String(c.x1),
                              c.y0 === null ? '' : String(c.y0), c.y1 === null ? '' : String(c.y1), c.count]));
  });

  // Scorecards: the scores, the grades' cut-offs, the most frequent reason codes.
  data.scorecards.forEach(s => {
    const total = s.histogram.reduce((a, b) => a + b.count, 0);
    const [f, c] = figure('scorecards', 'scorecard:' + s.name, s.name + ' — scores of ' + fmt(total) + ' customers', true);
    const cut = {id: 'cutoffs', afterDatasetsDraw(chart) {
      const ctx = chart.ctx, x = chart.scales.x, area = chart.chartArea;
      ctx.save();
      ctx.strokeStyle = '#c2403f';
      ctx.fillStyle = '#c2403f';
      ctx.font = '11px "Noto Sans CJK SC", sans-serif';
      s.cutoffs.forEach((k, i) => {
        const px = x.getPixelForValue(k.score);
        if (px < area.left || px > area.right) return;
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        ctx.fillText(k.grade, px + 3, area.top + 12 + 13 * (i % 4));
      });
      ctx.restore();
    }};
    const scores = s.histogram.map(b => b.score).concat(s.cutoffs.map(k => k.score));
    const slo = scores.length ? scores.reduce((a, b) => Math.min(a, b)) : 0;
    const shi = scores.length ? scores.reduce((a, b) => Math.max(a, b)) : 100;
    chart(c, {
      type: 'bar', plugins: [cut],
      data: {datasets: [{label: 'customers', data: s.histogram.map(b => ({x: b.score + 0.5, y: b.count})), backgroundColor: palette[0],
                         barPercentage: 1, categoryPercentage: 1}]},
      options: {scales: {x: {type: 'linear', min: slo - 1, max: shi + 2, title: {display: true, text: 'score'}}},
                plugins: {legend: {display: false},
                          tooltip: {callbacks: {title: items => 'score ' + Math.floor(items[0].parsed.x) + '–' + (Math.floor(items[0].parsed.x) + 1),
                                                label: ctx => fmt(ctx.parsed.y) + ' customers'}}}}
    });
    numbers(f, ['cut-off', 'grade', 'by'], s.cutoffs.map(k => [String(k.score), k.grade, k.by]));
    const [f2, c2] = figure('scorecards', 'reasons:' + s.name, s.name + ' — most frequent reason codes', false);
    chart(c2, {
      type: 'bar',
      data: {labels: s.reasons.map(r => r.factor + ': ' + r.bin), datasets: [{label: 'customers', data: s.reasons.map(r => r.count), backgroundColor: palette[1]}]},
      options: {indexAxis: 'y', plugins: {legend: {display: false}, tooltip: {callbacks: {label: ctx => fmt(ctx.raw) + ' customers'}}}}
    });
    numbers(f2, ['factor', 'bin', 'customers'], s.reasons.map(r => [r.factor, r.bin, r.count]));
  });

  // Migration since the previous run: a heatmap of counts.
  if (data.migration) {
    const m = data.migration;
    // A segment's path shown by its last part on the axes (whole in the tooltip and the numbers).
    const short = label => label === undefined ? '' : label.split('/').pop();
    const [f, c] = figure('migration', 'migration', m.decision + (m.against === 'rules'
        ? ': the previous rules (down) → these rules (across), on this portfolio'
        : ': the previous run (down) → this run (across)'), true, Math.max(320, 170 + 44 * m.from.length));
    const points = [];
    let max = 1;
    m.counts.forEach((row, r) => row.forEach((n, k) => { points.push({x: k, y: r, n: n}); max = Math.max(max, n); }));
    const shade = n => n === 0 ? '#f5f7fa' : 'rgba(47, 111, 171, ' + (0.15 + 0.85 * Math.sqrt(n / max)).toFixed(3) + ')';
    const text = {id: 'cellCounts', afterDatasetsDraw(chart) {
      const ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y;
      ctx.save();
      ctx.font = '11px monospace';
      ctx.textAlign = 'center';
      points.forEach(p => { if (p.n) { ctx.fillStyle = p.n > max / 2 ? '#fff' : '#1f2933'; ctx.fillText(fmt(p.n), x.getPixelForValue(p.x), y.getPixelForValue(p.y) + 4); } });
      ctx.restore();
    }};
    chart(c, {
      type: 'scatter', plugins: [text],
      data: {datasets: [{label: 'customers', data: points,
        pointStyle: 'rect',
        pointRadius: ctx => { const a = ctx.chart.chartArea; return a ? Math.max(4, Math.min((a.right - a.left) / m.to.length, (a.bottom - a.top) / m.from.length) / 2 - 1) : 10; },
        pointHoverRadius: ctx => { const a = ctx.chart.chartArea; return a ? Math.max(4, Math.min((a.right - a.left) / m.to.length, (a.bottom - a.top) / m.from.length) / 2 - 1) : 10; },
        backgroundColor: ctx => shade(ctx.raw ? ctx.raw.n : 0), borderWidth: 0}]},
      options: {scales: {
          x: {type: 'linear', min: -0.5, max: m.to.length - 0.5, position: 'top', grid: {display: false},
              afterBuildTicks: axis => { axis.ticks = m.to.map((_, i) => ({value: i})); },
              ticks: {autoSkip: false, maxRotation: 60, minRotation: 30, callback: v => short(m.to[v])}},
          y: {type: 'linear', min: -0.5, max: m.from.length - 0.5, reverse: true, grid: {display: false},
              afterBuildTicks: axis => { axis.ticks = m.from.map((_, i) => ({value: i})); },
              ticks: {autoSkip: false, callback: v => short(m.from[v])}}},
        plugins: {legend: {display: false},
                  tooltip: {callbacks: {label: ctx => m.from[ctx.raw.y] + ' → ' + m.to[ctx.raw.x] + ': ' + fmt(ctx.raw.n) + ' customers'}}}}
    });
    numbers(f, [m.against === 'rules' ? 'previous rules \\ these rules' : 'previous run \\ this run'].concat(m.to),
            m.counts.map((row, r) => [m.from[r]].concat(row)));
  } else {
    none('migration', 'No previous run (--previous) or previous rules (--previous-rules) given.');
  }

  // Capacity limits: the places used, and the customers beyond them.
  if (data.capacity && data.capacity.length) {
    const cs = data.capacity;
    const labels = cs.map(x => x.capacity + (x.per !== null ? ' (' + x.per + ' ' + x.group + ')' : ''));
    const [f, c] = figure('capacity', 'capacity', 'Places used per capacity, and the customers beyond the limit', false, Math.max(160, 40 + 30 * cs.length));
    chart(c, {
      type: 'bar',
      data: {labels: labels, datasets: [{label: 'places used', data: cs.map(x => x.used), backgroundColor: palette[0]},
                                        {label: 'beyond the limit', data: cs.map(x => x.beyond), backgroundColor: palette[1]}]},
      options: {indexAxis: 'y', scales: {x: {stacked: true}, y: {stacked: true}}}
    });
    numbers(f, ['capacity', 'places', 'used', 'beyond the limit', 'beyond the limit go to'],
            cs.map((x, i) => [labels[i], x.places, x.used, x.beyond, x.overflow]));
  } else {
    none('capacity', 'These rules set no capacity limits.');
  }

  // Rule coverage on this portfolio.
  {
    const cv = data.coverage;
    const [f, c] = figure('coverage', 'coverage', 'Rule coverage: ' + fmt(cv.reached) + ' of ' + fmt(cv.points) + ' branches, rows, cells, bins and plan items reached', false, 260);
    chart(c, {
      type: 'doughnut',
      data: {labels: ['reached', 'never reached'], datasets: [{data: [cv.reached, cv.points - cv.reached], backgroundColor: [palette[2], palette[3]]}]},
      options: {plugins: {tooltip: {callbacks: {label: ctx => ctx.label + ': ' + fmt(ctx.raw) + ' (' + pct(ctx.raw, cv.points) + ')'}}}}
    });
    numbers(f, ['file', 'line', 'never reached'], cv.unreached.map(u => [u.file, String(u.line), u.what]));
    if (cv.unreached.length) f.querySelector('details').open = true;
  }

  // Rejected records by reason.
  if (data.rejections.length) {
    const [f, c] = figure('rejections', 'rejections', 'Rejected records by reason', true, Math.max(160, 40 + 26 * data.rejections.length));
    chart(c, {
      type: 'bar',
      data: {labels: data.rejections.map(r => r.reason.length > 60 ? r.reason.slice(0, 59) + '…' : r.reason),
             datasets: [{label: 'records', data: data.rejections.map(r => r.count), backgroundColor: palette[3]}]},
      options: {indexAxis: 'y', plugins: {legend: {display: false}, tooltip: {callbacks: {label: ctx => fmt(ctx.raw) + ' records'}}}}
    });
    numbers(f, ['reason', 'records', 'for example', 'sample keys'], data.rejections.map(r => [r.reason, r.count, r.example, r.samples.join(', ')]));
    f.querySelector('details').open = true;
  } else {
    none('rejections', 'No record was rejected.');
  }

  document.body.setAttribute('data-charts', String(made));
  document.body.setAttribute('data-chart-instances', String(Object.keys(Chart.instances).length));
  const resources = performance.getEntriesByType('resource').length;
  document.body.setAttribute('data-resources', String(resources));
})();
)js";

}  // namespace

std::string render_html(const nlohmann::ordered_json& data) {
  const auto& h = data["header"];
  auto text = [](const nlohmann::ordered_json& v) { return v.is_null() ? std::string("—") : v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string title = h["ruleset"].is_null() ? "Stratum report" : h["ruleset"].get<std::string>();
  std::string out;
  out.reserve(300000);
  out += "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing may be fetched: the page is whole.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
         "style-src 'unsafe-inline'; img-src data:; font-src data:\">\n";
  out += "<meta name=\"generator\" content=\"stratum report\">\n";
  out += "<title>" + html_escape(title) + " — Stratum report</title>\n<style>" + std::string(kStyle) + "</style>\n";
  out += "<script>window.__cspViolations = 0; document.addEventListener('securitypolicyviolation', function () { "
         "window.__cspViolations += 1; document.documentElement.setAttribute('data-csp-violations', String(window.__cspViolations)); });</script>\n";
  out += "</head>\n<body>\n<header>\n<h1>" + html_escape(title) + "</h1>\n<dl>\n";
  for (const char* k : {"version", "hash", "rules", "as_of", "input", "previous", "previous_rules"}) {
    out += std::string("<dt>") + k + "</dt><dd id=\"" + k + "\">" + html_escape(text(h[k])) + "</dd>\n";
  }
  out += "</dl>\n<div class=\"counts\">";
  for (const char* k : {"read", "decided", "rejected"}) {
    out += std::string("<div>") + k + "<b id=\"" + k + "\" data-value=\"" + h[k].dump() + "\">" + h[k].dump() + "</b></div>";
  }
  out += "</div>\n</header>\n";
  for (auto [id, heading] : {std::pair{"decisions", "Segments and decisions"}, {"plan", "Service plan"}, {"capacity", "Capacity limits"},
                             {"grids", "Grids"}, {"scorecards", "Scorecards"}, {"migration", "Migration since the previous run"},
                             {"coverage", "Rule coverage"}, {"rejections", "Rejected records"}}) {
    out += std::string("<section><h2>") + heading + "</h2><div class=\"charts\" id=\"" + id + "\"></div></section>\n";
  }
  out += "<script type=\"application/json\" id=\"stratum-data\">" + script_safe(data.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)) + "</script>\n";
  out += "<script>/* Chart.js " + std::string(kChartJsVersion) + ", MIT License, from Debian's libjs-chart.js */\n";
  out += kChartJs;
  out += "\n</script>\n<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace stratum::report
