// The settlement console's page (services/gateway/console.h says what the gateway does for it).
// Every number comes from a public read RPC through /console/api/v1/... with the session cookie and the
// X-Console header; money stays integer fen (BigInt) until it is printed.
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
// Claim states that owe money or owed it: the ones GetTotals counts (portal_service.proto, TotalsRow).
const OWED_STATES = ['CONFIRMED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'VOIDED'];
const PAGE_SIZE = 500;
const MAX_PAGES = 20;  // at most 10,000 claims read per listing; the page says when there were more

class ApiError extends Error {
  constructor(status, body) {
    const zh = (body.details || []).find((d) => d.locale === 'zh-CN');
    super([zh ? zh.message : '', body.message || `HTTP ${status}`].filter(Boolean).join('\n'));
    this.status = status;
    this.reason = ((body.details || []).find((d) => d.reason) || {}).reason || '';
  }
}

async function call(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {'X-Console': '1'}};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

const api = (method, path, body) => call(method, '/console/api' + path, body);

// ---- formatting: fen as BigInt, never a float ----
const fen = (value) => BigInt(value || 0);
function yuan(value) {
  const v = fen(value);
  const sign = v < 0n ? '-' : '';
  const abs = v < 0n ? -v : v;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}¥${whole}.${(abs % 100n).toString().padStart(2, '0')}`;
}
const count = (value) => BigInt(value || 0).toString();

function cell(row, text, className, data) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  if (data !== undefined) td.dataset.fen = data.toString();
  return td;
}
function moneyCell(row, value) { return cell(row, yuan(value), 'money', fen(value)); }
function setMoney(id, value) {
  $(id).textContent = yuan(value);
  $(id).dataset.fen = fen(value).toString();
}
function svg(tag, attributes, parent) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (parent) parent.appendChild(element);
  return element;
}

// A bar chart of [label, value] pairs (values BigInt or numbers), drawn as SVG.
function barChart(container, pairs, formatValue) {
  container.replaceChildren();
  const width = 720, height = 180, bottom = 34, top = 14;
  const chart = svg('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img'}, container);
  const max = pairs.reduce((m, [, v]) => (Number(v) > m ? Number(v) : m), 0) || 1;
  const slot = width / Math.max(pairs.length, 1);
  pairs.forEach(([label, value], i) => {
    const h = ((height - bottom - top) * Number(value)) / max;
    const x = i * slot + slot * 0.15;
    const bar = svg('rect', {class: 'bar', x, y: height - bottom - h, width: slot * 0.7, height: h}, chart);
    svg('title', {}, bar).textContent = `${label}: ${formatValue(value)}`;
    svg('text', {x: x + slot * 0.35, y: height - bottom + 12, 'text-anchor': 'middle'}, chart).textContent = label;
    if (Number(value) > 0) {
      svg('text', {x: x + slot * 0.35, y: height - bottom - h - 3, 'text-anchor': 'middle'}, chart).textContent =
          formatValue(value);
    }
  });
}

// ---- data ----
// Sums `fields` ({name: record => integer}) of `records` per keyOf(record), as BigInts; a Map in key order.
function sumBy(records, keyOf, fields) {
  const sums = new Map();
  for (const record of records) {
    const key = keyOf(record);
    const sum = sums.get(key) || Object.fromEntries(Object.keys(fields).map((name) => [name, 0n]));
    for (const [name, valueOf] of Object.entries(fields)) sum[name] += fen(valueOf(record));
    sums.set(key, sum);
  }
  return new Map([...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// A table body with one row per key of `sums` (data-<dataKey> = the key) filled by fillRow, and a bar chart
// of each key's net.
function renderBreakdown(tableId, chartId, dataKey, sums, fillRow) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  for (const [key, sum] of sums) {
    const row = body.insertRow();
    row.dataset[dataKey] = key;
    fillRow(row, key, sum);
  }
  barChart($(chartId), [...sums].map(([key, sum]) => [key, sum.net]), yuan);
}

async function listClaims(request) {
  const claims = [];
  let pageToken = '';
  for (let page = 0; page < MAX_PAGES; ++page) {
    const answer = await api('POST', '/v1/portal/claims:list', {...request, pageSize: PAGE_SIZE, pageToken});
    claims.push(...(answer.claims || []));
    pageToken = answer.nextPageToken || '';
    if (!pageToken) return {claims, complete: true};
  }
  return {claims, complete: false};
}

function addDays(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
const daysBetween = (from, to) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 864e5);
// The China hour (UTC+8) of an RFC 3339 timestamp.
const chinaHour = (timestamp) => (new Date(timestamp).getUTCHours() + 8) % 24;

function renderTotals(totals, productNames) {
  setMoney('total-granted', totals.grantedFen);
  setMoney('total-refunded', totals.refundedFen);
  setMoney('total-net', totals.netFen);
  $('total-claims').textContent = count(totals.claims);
  $('total-claims').dataset.count = count(totals.claims);
  const byProduct = sumBy(totals.rows || [], (row) => row.productType,
      {units: (row) => row.units, granted: (row) => row.grantedFen, refunded: (row) => row.refundedFen,
       net: (row) => row.netFen});
  renderBreakdown('by-product', 'product-chart', 'productType', byProduct, (row, type, sum) => {
    cell(row, productNames.get(type) ? `${productNames.get(type)} ${type}` : type);
    cell(row, sum.units.toString(), 'count');
    moneyCell(row, sum.granted);
    moneyCell(row, sum.refunded);
    moneyCell(row, sum.net).classList.add('net');
  });
}

function renderRegions(listing) {
  const byRegion = sumBy(listing.claims, (claim) => claim.regionCode,
      {claims: () => 1, net: (claim) => claim.totalSubsidyFen});
  renderBreakdown('by-region', 'region-chart', 'region', byRegion, (row, region, sum) => {
    cell(row, region);
    cell(row, sum.claims.toString(), 'count');
    moneyCell(row, sum.net).classList.add('net');
  });
  $('region-note').textContent = listing.complete ? '' :
      `只统计了前 ${listing.claims.length} 笔申领 · Only the first ${listing.claims.length} claims are counted.`;
}

function renderHourly(listing, day) {
  const perHour = Array.from({length: 24}, () => 0);
  for (const claim of listing.claims) perHour[chinaHour(claim.createdAt)] += 1;
  $('hourly-day').textContent = `${day}（北京时间 China time）`;
  $('hourly').dataset.total = String(listing.claims.length);
  barChart($('hourly'), perHour.map((n, hour) => [String(hour).padStart(2, '0'), n]), String);
}

// Budgets of every policy in force on `day`, once per programme and budget, with what reserved claims hold.
async function loadBudgets(policies, day) {
  const inForce = policies.filter((p) => p.transactionWindow &&
      p.transactionWindow.firstDay <= day && day <= p.transactionWindow.lastDay);
  const budgets = new Map();
  for (const summary of inForce) {
    const [usage, policy] = await Promise.all([
      api('POST', '/v1/budget-usage:query', {policyId: summary.policyId, transactionDate: day}),
      api('GET', `/v1/policies/${encodeURIComponent(summary.policyId)}`)]);
    const definitions = new Map((policy.budgets || []).map((b) => [b.id, b]));
    for (const status of usage.budgets || []) {
      const key = `${status.programme}/${status.budgetId}`;
      if (budgets.has(key)) continue;
      budgets.set(key, {status, definition: definitions.get(status.budgetId) || {},
                        firstDay: summary.transactionWindow.firstDay, held: 0n});
    }
  }
  // Held: the lines of reserved claims each budget draws on (holds last minutes; yesterday covers midnight).
  const reserved = await listClaims({fromDate: addDays(day, -1), toDate: day, states: ['RESERVED']});
  for (const budget of budgets.values()) {
    const types = budget.definition.productTypes || [], rules = budget.definition.ruleIds || [];
    for (const claim of reserved.claims) {
      if (claim.programme !== budget.status.programme) continue;
      for (const item of claim.items || []) {
        const draws = (types.length === 0 && rules.length === 0) || types.includes(item.productType) ||
            rules.includes(item.ruleId);
        if (draws) budget.held += fen(item.subsidyFen);
      }
    }
  }
  return {budgets: [...budgets.values()], day};
}

function renderBudgets({budgets, day}) {
  const body = $('budgets').tBodies[0];
  body.replaceChildren();
  for (const {status, firstDay, held} of budgets) {
    const total = fen(status.totalFen), used = fen(status.usedFen), remaining = fen(status.remainingFen);
    const row = body.insertRow();
    row.dataset.budget = `${status.programme}/${status.budgetId}`;
    cell(row, status.programme);
    cell(row, status.title ? `${status.title} (${status.budgetId})` : status.budgetId);
    moneyCell(row, total);
    moneyCell(row, used - held).classList.add('used');
    moneyCell(row, held).classList.add('held');
    moneyCell(row, remaining).classList.add('remaining');
    const burn = svg('svg', {class: 'burn', viewBox: '0 0 100 8', preserveAspectRatio: 'none'}, cell(row, ''));
    const share = (part) => (total > 0n ? Number((part * 10000n) / total) / 100 : 0);
    svg('rect', {class: 'track', x: 0, y: 0, width: 100, height: 8}, burn);
    svg('rect', {class: 'used', x: 0, y: 0, width: share(used - held), height: 8}, burn);
    svg('rect', {class: 'held', x: share(used - held), y: 0, width: share(held), height: 8}, burn);
    svg('title', {}, burn).textContent = `${share(used)}%`;
    const elapsed = BigInt(daysBetween(firstDay, day) + 1);
    const daysLeft = used > 0n ? (remaining * elapsed) / used : null;
    // The day it runs out, while that is within ten years (a Date cannot hold every BigInt).
    const until = daysLeft !== null && daysLeft <= 3650n ? ` (${addDays(day, Number(daysLeft))})` : '';
    cell(row, daysLeft === null ? '—' : `${daysLeft} 天 days${until}`, 'count days');
  }
}

function renderClaim(claim) {
  const box = $('claim');
  box.replaceChildren();
  const list = document.createElement('dl');
  const add = (label, value) => {
    if (value === undefined || value === '') return;
    const dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = label;
    dd.textContent = value;
    list.append(dt, dd);
  };
  add('编号 Claim id', claim.claimId);
  add('状态 State', claim.state);
  add('零售商 Retailer', claim.retailerId);
  add('地区 Region', claim.regionCode);
  add('政策 Policy', `${claim.policyId} ${claim.policyVersion || ''}`);
  add('交易日 Transaction date', claim.transactionDate);
  add('创建 Created', claim.createdAt);
  add('发票 Invoice', claim.invoiceNumber);
  add('补贴净额 Subsidy (net)', yuan(claim.totalSubsidyFen));
  add('退回 Refunded', yuan(claim.refundedFen));
  box.appendChild(list);
  const items = document.createElement('table');
  items.createTHead().insertRow().append(...['行 Line', '产品 Product', '数量 Qty', '价格 Price', '补贴 Subsidy',
    '说明 Explanation'].map((t) => Object.assign(document.createElement('th'), {textContent: t})));
  const body = items.createTBody();
  for (const item of claim.items || []) {
    const row = body.insertRow();
    cell(row, item.lineId);
    cell(row, `${item.productNameZh || ''} ${item.productType}`.trim());
    cell(row, String(item.grantedQuantity ?? item.quantity ?? 0), 'count');
    moneyCell(row, item.priceFen);
    moneyCell(row, item.subsidyFen);
    cell(row, item.explanationZh || item.explanation || '');
  }
  box.appendChild(items);
  // The claim's history (voids, corrections, refunds: who, when, why) when the server keeps one.
  if (Array.isArray(claim.history) && claim.history.length > 0) {
    const heading = document.createElement('h3');
    heading.textContent = '历史 History';
    const history = document.createElement('ol');
    history.id = 'claim-history';
    for (const entry of claim.history) {
      const li = document.createElement('li');
      li.textContent = Object.entries(entry).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`)
          .join(' · ');
      history.appendChild(li);
    }
    box.append(heading, history);
  }
}

// ---- the page ----
let policies = [];

async function refresh() {
  $('app-error').textContent = '';
  const from = $('from').value, to = $('to').value, day = $('server-date').dataset.day;
  try {
    const [totals, period, today] = await Promise.all([
      api('POST', '/v1/portal/totals', {fromDate: from, toDate: to}),
      listClaims({fromDate: from, toDate: to, states: OWED_STATES}),
      listClaims({fromDate: day, toDate: day})]);
    const productNames = new Map();
    for (const claim of period.claims) {
      for (const item of claim.items || []) if (item.productNameZh) productNames.set(item.productType, item.productNameZh);
    }
    renderTotals(totals, productNames);
    renderRegions(period);
    renderHourly(today, day);
    renderBudgets(await loadBudgets(policies, day));
    document.body.dataset.loaded = 'true';
  } catch (error) {
    failed(error, 'app-error');
  }
}

function failed(error, where) {
  if (error instanceof ApiError && error.reason === 'CONSOLE_SESSION_INVALID') {
    showLogin(error.message);
    return;
  }
  $(where).textContent = error.message;
}

function showLogin(message) {
  $('app').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('key').focus();
}

async function start() {
  let session;
  try {
    session = await call('GET', '/console/session');
  } catch (error) {
    showLogin(error.status === 401 ? '' : error.message);
    return;
  }
  $('login').hidden = true;
  $('login-error').textContent = '';
  $('noauth').hidden = session.authentication;
  $('who').hidden = !session.authentication;
  $('caller').textContent = `${session.callerId} (${session.role})`;
  $('app').hidden = false;
  try {
    const answer = await api('GET', '/v1/policies');
    policies = answer.policies || [];
    const day = answer.serverDate;
    $('server-date').dataset.day = day;
    $('server-date').textContent = `服务器日期 Server date: ${day}`;
    if (!$('from').value) $('from').value = addDays(day, -29);
    if (!$('to').value) $('to').value = day;
  } catch (error) {
    failed(error, 'app-error');
    return;
  }
  await refresh();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call('POST', '/console/login', {key: $('key').value});
      $('key').value = '';
      await start();
    } catch (error) {
      $('login-error').textContent = error.message;
    }
  });
  $('logout').addEventListener('click', async () => {
    await call('POST', '/console/logout').catch(() => {});
    document.body.dataset.loaded = '';
    showLogin('');
  });
  $('period').addEventListener('submit', (event) => {
    event.preventDefault();
    refresh();
  });
  $('lookup').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('claim').replaceChildren();
    try {
      renderClaim(await api('GET', `/v1/claims/${encodeURIComponent($('claim-id').value.trim())}`));
    } catch (error) {
      if (error instanceof ApiError && error.reason === 'CONSOLE_SESSION_INVALID') {
        showLogin(error.message);
        return;
      }
      const p = document.createElement('p');
      p.className = 'error';
      p.textContent = error.message;
      $('claim').appendChild(p);
    }
  });
  start();
});
