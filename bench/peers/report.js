'use strict';
// One table: CPU µs per company and companies/s per core, Stratum (end to end,
// CSV parsing included) against each peer (evaluation only), with the ratio.
//   node report.js STRATUM_CPU_SECONDS RECORDS [NATIVE_CPU_SECONDS]
// (NATIVE_CPU_SECONDS: the same run through `stratum eval --native`.)
const fs = require('fs');
const path = require('path');
const [cpuSeconds, records, nativeSeconds] = process.argv.slice(2).map(Number);
const peers = JSON.parse(fs.readFileSync(path.join(__dirname, 'data', 'peers.json'), 'utf8'));
const stratumUs = (cpuSeconds * 1e6) / records;
const fmt = (x, d = 2) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log('| engine / path | µs CPU per company | companies/s per core | Stratum is … × faster |');
console.log('|---|---:|---:|---:|');
console.log(`| Stratum, stratum eval CSV → CSV, 1 thread, parsing included | ${fmt(stratumUs, 3)} | ${fmt(1e6 / stratumUs, 0)} | 1 |`);
const nativeUs = nativeSeconds ? (nativeSeconds * 1e6) / records : 0;
if (nativeUs) {
  console.log(`| Stratum, stratum eval --native (build --native), the same | ${fmt(nativeUs, 3)} | ${fmt(1e6 / nativeUs, 0)} | ${fmt(stratumUs / nativeUs, 2)} |`);
}
for (const r of peers.results) {
  if (r.error) { console.log(`| ${r.name} | error: ${r.error} | | |`); continue; }
  console.log(`| ${r.name} (evaluation only) | ${fmt(r.cpuUsPerEval, 3)} | ${fmt(1e6 / r.cpuUsPerEval, 0)} | ${fmt(r.cpuUsPerEval / stratumUs, 1)} |`);
}
// The target: at least 100× the fastest peer's CPU per company (zen 2.0.2's
// native evaluateBatch), Stratum measured end to end.
const zen2 = peers.results.find((r) => !r.error && (r.key === 'zen2-table-batch' || /evaluateBatch/.test(r.name)));
if (zen2) {
  const ratio = zen2.cpuUsPerEval / stratumUs;
  console.log('');
  console.log('| target | measured in this run | holds |');
  console.log('|---|---:|:---:|');
  console.log(`| ≥ 100× zen 2.0.2 evaluateBatch in CPU per company | ${fmt(ratio, 1)}× (${fmt(stratumUs, 3)} µs against ${fmt(zen2.cpuUsPerEval, 2)} µs) | ${ratio >= 100 ? 'yes' : '**no**'} |`);
  if (nativeUs) {
    const r = zen2.cpuUsPerEval / nativeUs;
    console.log(`| ≥ 100× zen 2.0.2 evaluateBatch in CPU per company, eval --native | ${fmt(r, 1)}× (${fmt(nativeUs, 3)} µs against ${fmt(zen2.cpuUsPerEval, 2)} µs) | ${r >= 100 ? 'yes' : '**no**'} |`);
  }
}
