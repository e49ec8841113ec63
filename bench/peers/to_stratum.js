'use strict';
// data/companies.csv (industry codes, amounts in 万 with up to 2 decimals)
//   → data/companies_stratum.csv for rules/sme_size.strat (行业 names, amounts in yuan),
// converted exactly as text (no floating point).
const fs = require('fs');
const path = require('path');
const NAMES = {
  agriculture: '农林牧渔业', industry: '工业', construction: '建筑业', wholesale: '批发业', retail: '零售业',
  transport: '交通运输业', warehousing: '仓储业', postal: '邮政业', accommodation: '住宿业', catering: '餐饮业',
  it_transmission: '信息传输业', software: '软件和信息技术服务业', real_estate: '房地产开发经营',
  property_mgmt: '物业管理', leasing_business: '租赁和商务服务业', other: '其他未列明行业',
};
const yuan = (wan) => {
  const [whole, frac = ''] = wan.split('.');
  return (BigInt(whole) * 10000n + BigInt((frac + '00').slice(0, 2)) * 100n).toString();
};
const dir = path.join(__dirname, 'data');
const lines = fs.readFileSync(path.join(dir, 'companies.csv'), 'utf8').trim().split('\n');
const out = ['id,industry,employees,revenue,total_assets'];
for (const line of lines.slice(1)) {
  const [id, industry, employees, revenue, assets] = line.split(',');
  out.push(`${id},${NAMES[industry]},${employees},${yuan(revenue)},${yuan(assets)}`);
}
fs.writeFileSync(path.join(dir, 'companies_stratum.csv'), out.join('\n') + '\n');
