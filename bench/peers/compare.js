'use strict';
// Checks Stratum's answers (data/stratum.csv: id,规模) against the oracle's
// (data/expected.csv: id,size). Exit 1 on any difference.
const fs = require('fs');
const path = require('path');
const SIZE = { 大型: 'large', 中型: 'medium', 小型: 'small', 微型: 'micro' };
const read = (f) => fs.readFileSync(path.join(__dirname, 'data', f), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const expected = new Map(read('expected.csv'));
const got = read('stratum.csv');
let mismatches = 0;
for (const [id, size] of got) {
  if (expected.get(id) !== SIZE[size]) {
    if (mismatches < 5) console.log(`  MISMATCH id=${id} oracle=${expected.get(id)} stratum=${size}`);
    mismatches++;
  }
}
if (got.length !== expected.size) { console.log(`  stratum decided ${got.length} of ${expected.size}`); mismatches++; }
console.log(`stratum: ${got.length} records checked, ${mismatches} mismatches${mismatches ? '' : ' (OK)'}`);
process.exit(mismatches ? 1 : 0);
