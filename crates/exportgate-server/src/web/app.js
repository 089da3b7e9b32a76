// exportgate's web page: review queue, case detail, licence and quota charts, country map and
// a one-order check form. Hand-written, no framework, no build step; every datum comes from the
// JSON API with the API key the user pasted (kept in sessionStorage for this tab only).
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const view = () => $('#view');
let me = null;

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
const pill = (s) => `<span class="pill ${esc(s)}">${esc(String(s ?? '').replace(/_/g, ' '))}</span>`;
const fmt = (n) => (n == null ? '—' : Number(n).toLocaleString('en-US'));
const today = () => new Date().toISOString().slice(0, 10);

async function api(path, opts = {}) {
  const headers = { Authorization: 'Bearer ' + sessionStorage.getItem('eg-key') };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method: opts.method || 'GET', headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = data && data.error ? data.error : { field: 'http', message: res.statusText };
    const err = new Error(`${e.message} (field ${e.field}, HTTP ${res.status})`);
    err.status = res.status;
    throw err;
  }
  return data;
}

// ---- sign in -------------------------------------------------------------------------------
async function signIn(key) {
  sessionStorage.setItem('eg-key', key);
  // Any endpoint tells whether the key works; the queue also tells whether it may review.
  try {
    await api('/v1/regimes?as_of=' + today());
  } catch (e) {
    sessionStorage.removeItem('eg-key');
    throw e;
  }
  let role = 'submitter';
  try { await api('/v1/cases?limit=1'); role = 'reviewer or admin'; } catch (_) { /* submitter */ }
  me = { role };
  $('#login').hidden = true;
  $('#nav').hidden = false;
  view().hidden = false;
  $('#who').textContent = 'signed in (' + role + ')';
  route();
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#login-error').textContent = '';
  try { await signIn($('#key').value.trim()); } catch (e) { $('#login-error').textContent = e.message; }
});

// ---- routing -------------------------------------------------------------------------------
function route() {
  if (!me) return;
  const [, tab, arg] = (location.hash || '#/queue').split('?')[0].split('/');
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.tab === (tab === 'case' ? 'queue' : tab)));
  const pages = { queue, case: caseView, balances, revenue: revenueView, map: mapView, check: checkView, party: partyView };
  (pages[tab] || queue)(arg).catch((e) => { view().innerHTML = `<p class="error" role="alert">${esc(e.message)}</p>`; });
}
window.addEventListener('hashchange', route);

// ---- review queue --------------------------------------------------------------------------
async function queue() {
  const status = new URLSearchParams(location.hash.split('?')[1] || '').get('status') || 'open';
  const cases = await api('/v1/cases?status=' + encodeURIComponent(status));
  const rows = cases.map((c) => `<tr class="link" data-id="${c.id}">
      <td class="mono">#${c.id}</td><td>${esc(c.order_id)}</td><td>${pill(c.outcome)}</td>
      <td>${esc(c.order.consignee && (c.order.consignee.name || "party " + c.order.consignee.party_id))} <span class="muted">${esc(c.order.destination)}</span></td>
      <td>${c.why.map((w) => `<div>${esc(w)}</div>`).join('')}</td>
      <td>${esc(c.submitted_name)}</td><td class="small">${esc(c.created_at.slice(0, 19).replace('T', ' '))}</td>
      <td>${pill(c.status)}</td></tr>`).join('');
  view().innerHTML = `<h2>Review queue <span class="muted small">(${cases.length} ${esc(status)})</span></h2>
    <p class="small">Show: <a href="#/queue?status=open">open</a> · <a href="#/queue?status=released">released</a> ·
      <a href="#/queue?status=blocked">blocked</a> · <a href="#/queue?status=all">all</a></p>
    <table id="queue"><thead><tr><th>Case</th><th>Order</th><th>Outcome</th><th>Consignee</th><th>Why it needs a person</th>
    <th>Submitted by</th><th>Opened (UTC)</th><th>Status</th></tr></thead>
    <tbody>${rows || '<tr><td colspan="8" class="muted">No cases.</td></tr>'}</tbody></table>`;
  view().querySelectorAll('tr.link').forEach((tr) => tr.addEventListener('click', () => { location.hash = '#/case/' + tr.dataset.id; }));
}

// ---- case detail ---------------------------------------------------------------------------
function hitsHtml(party) {
  if (!party.hits.length) return `<p class="muted">${esc(party.party)} <b>${esc(party.name)}</b>: no hits.</p>`;
  return `<h4>${esc(party.party)}: ${esc(party.name)} <span class="muted">${esc(party.country)}</span></h4>` + party.hits.map((h) => {
    const f = h.features || {};
    const toks = (h.tokens_matched || []).map((t) => `<code>${esc(t.query)}</code>→<code>${esc(t.entry)}</code> ${t.similarity != null ? Number(t.similarity).toFixed(2) : ''}`).join(', ');
    return `<div class="hit ${h.certain ? 'certain' : ''}">
      <b>${esc(h.name)}</b> — ${esc(h.list_name || h.list)} (<code>${esc(h.entry_id)}</code>)
      <div>score <b>${Number(h.score).toFixed(3)}</b> ${h.certain ? pill('certain') : pill('below certainty')}
        ${h.cleared ? pill('cleared until ' + h.cleared.expires) : ''}; matched alias “${esc(h.matched_alias)}”</div>
      <div class="small">tokens: ${toks || '—'}</div>
      <div class="small">features: alignment ${fmtf(f.token_alignment)}, compact ${fmtf(f.compact)}, name ${fmtf(f.name)},
        country ${fmtf(f.country)}${f.number_mismatch ? ', <b>number mismatch</b>' : ''}</div>
      <div class="small">${h.citation ? 'citation: ' + esc(h.citation) : ''} ${h.license_requirement ? '· licence requirement: ' + esc(h.license_requirement) : ''}
        ${h.license_policy ? '· policy: ' + esc(h.license_policy) : ''} ${(h.programs || []).length ? '· programmes: ' + esc(h.programs.join(', ')) : ''}</div></div>`;
  }).join('');
}
const fmtf = (x) => (x == null ? '—' : Number(x).toFixed(2));

async function caseView(id) {
  const c = await api('/v1/cases/' + encodeURIComponent(id));
  const d = c.decision || {};
  const reasons = (d.reasons || []).map((r) => `<tr><td class="mono">${esc(r.rule)}</td><td>${esc(r.citation)}</td><td>${esc(r.summary)}</td></tr>`).join('');
  const trace = (c.trace || []).map((t) => `<tr><td class="mono">${esc(t.rule)}</td><td>${esc(t.regime)}</td><td class="status-${esc(t.status)}">${esc(t.status)}</td><td>${esc(t.citation)}</td><td>${esc(t.detail)}</td></tr>`).join('');
  const scr = d.screening || {};
  const o = c.order || {};
  view().innerHTML = `<h2>Case #${c.id} — order ${esc(c.order_id)} ${pill(c.outcome)} ${pill(c.status)}</h2>
    <div class="grid">
      <div class="card"><h3>Order</h3>
        <div>${esc(o.date)} · ${fmt(o.quantity)} × <b>${esc(o.item && (o.item.chip || (o.item.spec && o.item.spec.name)))}</b> → ${esc(o.destination)}</div>
        <div>consignee: <b>${esc(o.consignee && (o.consignee.name || "party " + o.consignee.party_id))}</b> (${esc(o.consignee && o.consignee.country)}, HQ ${esc(o.consignee && o.consignee.headquarters)})</div>
        ${o.end_user ? `<div>end user: <b>${esc(o.end_user.name)}</b> (${esc(o.end_user.country)})</div>` : ''}
        ${o.end_use ? `<div>end use: ${esc(o.end_use.text)} ${esc((o.end_use.tags || []).join(', '))}</div>` : ''}
        <div class="small muted">ECCN ${esc(d.eccn)} · TPP ${fmt(d.tpp_total)} · submitted by ${esc(c.submitted_name)} at ${esc(c.created_at)}</div>
      </div>
      <div class="card"><h3>Why it needs a person</h3>${c.why.map((w) => `<div>• ${esc(w)}</div>`).join('')}
        <div class="small muted">screening: ${esc(scr.status)}; lists: ${esc((scr.lists || []).join('; ') || 'none')}</div>
        ${c.status !== 'open' ? `<p>${pill(c.status)} by <b>${esc(c.resolved_name)}</b> at ${esc(c.resolved_at)}: ${esc(c.resolution_reason)}</p>` : ''}
      </div>
    </div>
    <h3>Decision reasons</h3>
    <table id="reasons"><thead><tr><th>Rule</th><th>Citation</th><th>Why</th></tr></thead><tbody>${reasons || '<tr><td colspan="3" class="muted">none</td></tr>'}</tbody></table>
    <h3>Screening explanation</h3><div class="card" id="screening">${(c.screening || []).map(hitsHtml).join('') || '<p class="muted">Parties were not screened by exportgate.</p>'}</div>
    ${c.status === 'open' ? `<div class="card" id="actions"><h3>Decide</h3>
      <label><span>Reason (required)</span><textarea id="reason" placeholder="What you checked and why"></textarea></label>
      <label><span>Clear uncertain hits until</span><input id="allow-until" type="date"> <span class="small muted">optional: adds them to the allow-list</span></label>
      <button id="release">Release</button> <button id="block" class="danger">Block</button>
      <p id="action-result" role="status"></p></div>` : ''}
    <h3>Rule trace</h3>
    <table id="trace"><thead><tr><th>Rule</th><th>Regime</th><th>Status</th><th>Citation</th><th>Detail</th></tr></thead><tbody>${trace}</tbody></table>`;
  const act = async (what) => {
    const body = { reason: $('#reason').value };
    if (what === 'release' && $('#allow-until').value) body.allow_until = $('#allow-until').value;
    try {
      const r = await api(`/v1/cases/${c.id}/${what}`, { method: 'POST', body });
      $('#action-result').innerHTML = `Case ${pill(r.status)} by ${esc(r.resolved_name)}.`;
      setTimeout(() => caseView(id), 600);
    } catch (e) { $('#action-result').innerHTML = `<span class="error">${esc(e.message)}</span>`; }
  };
  if (c.status === 'open') {
    $('#release').addEventListener('click', () => act('release'));
    $('#block').addEventListener('click', () => act('block'));
  }
  dueDiligenceCard(c, d);
}

// ---- know your customer: facts to collect, completing a party record, the party's page -----
// A value typed in a form: JSON when it parses (true, 12, "x"), else text.
const factValue = (v) => { try { return JSON.parse(v); } catch (_) { return v; } };

function dueDiligenceCard(c, d) {
  const dd = d.due_diligence;
  if (!dd) return;
  const facts = [...new Set((dd.missing || []).flatMap((m) => m.facts || []))];
  const parties = (dd.parties || []).map((p) => `<a href="#/party/${encodeURIComponent(p.id)}">${esc(p.id)}</a> (${esc(p.role)}, ${p.current ? 'current' : 'past its review date ' + esc(p.review_by)})`).join(', ');
  const consignee = (dd.parties || []).find((p) => p.role === 'consignee');
  const card = document.createElement('div');
  card.className = 'card';
  card.id = 'due-diligence';
  card.innerHTML = `<h3>Due diligence ${pill(dd.policy === 'hold' ? 'incomplete' : 'reported')}</h3>
    <div>party records: ${parties || '<span class="muted">none</span>'}</div>
    <table><thead><tr><th>Red flag</th><th>Severity</th><th>Facts to collect</th></tr></thead><tbody>
    ${(dd.missing || []).map((m) => `<tr><td class="mono">${esc(m.flag)}</td><td>${esc(m.severity)}</td><td>${esc((m.facts || []).join(', ') || m.note)}</td></tr>`).join('') || '<tr><td colspan="3" class="muted">none</td></tr>'}</tbody></table>
    ${facts.length ? `<form id="dd-form"><p class="small muted">Complete the party record (values as JSON: true, 12, "commercial"); the order is decided again.</p>
      <label><span>Party record</span><input name="party_id" value="${esc(consignee ? consignee.id : '')}" required></label>
      ${facts.map((f) => `<label><span>${esc(f)}</span><input name="f:${esc(f)}"></label>`).join('')}
      <label><span>Established on</span><input name="on" type="date"> <span class="small muted">today by default; a fact counts for orders dated from then on</span></label>
      <label><span>Next review by</span><input name="review_by" type="date"></label>
      <button type="submit">Complete and decide again</button><p id="dd-result" role="status"></p></form>` : ''}`;
  view().insertBefore(card, $('#reasons').previousElementSibling);
  const form = $('#dd-form');
  if (!form) return;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    const body = { party_id: f.party_id, facts: {} };
    for (const [k, v] of Object.entries(f)) if (k.startsWith('f:') && v.trim()) body.facts[k.slice(2)] = factValue(v.trim());
    if (f.review_by) body.review_by = f.review_by;
    if (f.on) body.on = f.on;
    try {
      const r = await api(`/v1/cases/${c.id}/due-diligence`, { method: 'POST', body });
      $('#dd-result').innerHTML = `Decided again: ${pill(r.decision.outcome)} — <a href="#/party/${encodeURIComponent(f.party_id)}">the party's page</a>`;
    } catch (e) { $('#dd-result').innerHTML = `<span class="error">${esc(e.message)}</span>`; }
  });
}

async function partyView(id) {
  const p = await api('/v1/parties/' + encodeURIComponent(id));
  const r = p.party;
  const facts = Object.entries(p.facts).map(([k, f]) => `<tr><td class="mono">${esc(k)}</td><td>${esc(JSON.stringify(f.value))}</td><td>${esc(f.established)}</td><td>${esc(f.by)}</td><td>${fmt(f.age_days)} days</td></tr>`).join('');
  const orders = (p.orders || []).map((o) => `<tr class="link"><td><a href="#/case/${o.case}">#${o.case}</a></td><td>${esc(o.order)}</td><td>${pill(o.outcome)}</td><td>${pill(o.status)}</td></tr>`).join('');
  view().innerHTML = `<h2>Party ${esc(r.id)} — ${esc(r.name)} ${pill(p.current ? 'current' : 'past review')}</h2>
    <div class="card"><div>${esc(r.country)} · HQ ${esc(r.headquarters)} · parent HQ ${esc(r.parent_headquarters)} · ${esc(r.role || '')} ${esc((r.kinds || []).join(', '))}</div>
      <div class="small muted">review by ${esc(r.review_by)} (as of ${esc(p.as_of)})</div></div>
    <h3>Facts</h3><table id="party-facts"><thead><tr><th>Fact</th><th>Value</th><th>Established</th><th>By</th><th>Age</th></tr></thead><tbody>${facts || '<tr><td colspan="5" class="muted">none</td></tr>'}</tbody></table>
    <h3>Orders</h3><table id="party-orders"><thead><tr><th>Case</th><th>Order</th><th>Outcome</th><th>Status</th></tr></thead><tbody>${orders || '<tr><td colspan="4" class="muted">no review cases</td></tr>'}</tbody></table>`;
}

// ---- licence and quota charts --------------------------------------------------------------
function barChart(rows, title) {
  // rows: [{label, dim, limit, posted, pending}]; one horizontal stacked bar per row.
  const W = 860, left = 260, barH = 18, gap = 10, top = 24;
  const H = top + rows.length * (barH + gap) + 10;
  const scale = W - left - 110;
  let svg = `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`;
  svg += `<text x="${left}" y="14" class="muted">share of the limit used: posted (dark), pending (light), available (grey)</text>`;
  rows.forEach((r, i) => {
    const y = top + i * (barH + gap);
    const p = r.limit ? Math.min(1, r.posted / r.limit) : 0;
    const q = r.limit ? Math.min(1 - p, r.pending / r.limit) : 0;
    svg += `<text x="0" y="${y + 13}">${esc(r.label)} · ${esc(r.dim)}</text>
      <rect x="${left}" y="${y}" width="${scale}" height="${barH}" fill="#e5e8ee"><title>limit ${fmt(r.limit)}</title></rect>
      <rect x="${left}" y="${y}" width="${(scale * p).toFixed(1)}" height="${barH}" fill="#1f5fbf"><title>posted ${fmt(r.posted)}</title></rect>
      <rect x="${(left + scale * p).toFixed(1)}" y="${y}" width="${(scale * q).toFixed(1)}" height="${barH}" fill="#8fb3ea"><title>pending ${fmt(r.pending)}</title></rect>
      <text x="${left + scale + 8}" y="${y + 13}">${fmt(r.limit - r.posted - r.pending)} left</text>`;
  });
  return svg + '</svg>';
}

function balanceRows(label, b) {
  return ['units', 'value', 'tpp'].filter((k) => b.limits[k] != null).map((k) => ({
    label, dim: k === 'value' ? 'value (USD)' : k, limit: b.limits[k], posted: b.posted[k] || 0, pending: b.pending[k] || 0,
  }));
}

async function balances() {
  const data = await api('/v1/balances');
  const lic = data.licences.flatMap((l) => balanceRows(`${l.number} (${l.holder})`, l.balance));
  const quo = data.quotas.flatMap((b) => balanceRows(b.account, b));
  view().innerHTML = `<h2>Licences and quotas</h2>
    <div class="card" id="licence-chart"><h3>Licence balances (${data.licences.length})</h3>${lic.length ? barChart(lic, 'licence balances') : '<p class="muted">No licences on the ledger.</p>'}</div>
    <div class="card" id="quota-chart"><h3>AI Diffusion country allocations (${data.quotas.length})</h3>${quo.length ? barChart(quo, 'quota balances') : '<p class="muted">No allocation accounts on the ledger.</p>'}</div>`;
}

// ---- revenue-share accruals (issue 21) -----------------------------------------------------
function cents(c) {
  return c == null ? '?' : (c / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function currentQuarter() {
  const d = new Date();
  return `${d.getUTCFullYear()}Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
}

async function revenueView() {
  const quarter = new URLSearchParams(location.hash.split('?')[1] || '').get('quarter') || currentQuarter();
  const r = await api('/v1/reports/revenue-share?quarter=' + encodeURIComponent(quarter));
  const blocks = r.licences.map((l) => `<div class="card revenue-licence" data-licence="${esc(l.licence)}">
      <h3>${esc(l.licence)} <span class="muted">(${esc(l.holder)}, ${l.percent}%)</span>:
        <span class="accrued">${esc(l.currency)} ${cents(l.accrued_cents)}</span> from ${l.orders.length} orders</h3>
      <table><thead><tr><th>order</th><th>accrued at</th><th>value (${esc(l.currency)})</th><th>share (${esc(l.currency)})</th></tr></thead>
      <tbody>${l.orders.map((o) => `<tr><td class="mono">${esc(o.order_id)}</td><td class="small">${esc(o.at)}</td>
        <td>${cents(o.value_cents)}</td><td>${cents(o.share_cents)}</td></tr>`).join('')}</tbody></table></div>`).join('');
  view().innerHTML = `<h2>Revenue share accrued in ${esc(r.quarter)}: <span id="revenue-total">${esc(r.currency)} ${cents(r.total_cents)}</span></h2>
    <form id="quarter-form"><label>Quarter <input id="quarter" value="${esc(r.quarter)}" size="8" aria-label="quarter"></label>
      <button type="submit">Show</button></form>
    ${blocks || '<p class="muted">Nothing accrued in this quarter.</p>'}`;
  $('#quarter-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/revenue?quarter=' + encodeURIComponent($('#quarter').value.trim());
  });
}

// ---- map -----------------------------------------------------------------------------------
let mapShapes = null;
const TIER_COLOURS = { tier1: '#2e7d32', tier2: '#f2b134', tier3: '#c62828', none: '#c9ced6' };

async function mapView() {
  if (!mapShapes) mapShapes = await (await fetch('/ui/map.json')).json();
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const asOf = params.get('as_of') || '2025-06-01';
  const mode = params.get('mode') || 'tier';
  const data = await api('/v1/countries?as_of=' + encodeURIComponent(asOf));
  const byCode = Object.fromEntries(data.countries.map((c) => [c.code, c]));
  const groupIds = data.groups.map((g) => g.id);
  let colour, legend;
  if (mode === 'tier') {
    colour = (c) => TIER_COLOURS[(c && c.diffusion_tier) || 'none'];
    legend = [['tier1', 'Tier 1'], ['tier2', 'Tier 2'], ['tier3', 'Tier 3'], ['none', 'no data']].map(([k, l]) => `<span><i style="background:${TIER_COLOURS[k]}"></i>${l}</span>`).join('');
  } else {
    colour = (c) => (c && c.groups.includes(mode) ? '#7b1fa2' : '#c9ced6');
    const g = data.groups.find((x) => x.id === mode) || {};
    legend = `<span><i style="background:#7b1fa2"></i>in Country Group ${esc(mode)} ${esc(g.title || '')}</span><span><i style="background:#c9ced6"></i>not in it</span><span class="muted">${esc(g.citation || '')}</span>`;
  }
  const paths = mapShapes.countries.map((s) => {
    const c = byCode[s.code];
    const info = c ? `${c.name} (${c.code}): ${c.diffusion_tier || 'no tier'}; groups ${c.groups.join(', ') || 'none'}` : s.name;
    return `<path d="${s.d}" fill="${colour(c)}" data-code="${s.code}"><title>${esc(info)}</title></path>`;
  }).join('');
  const st = data.diffusion.state;
  view().innerHTML = `<h2>Countries as of ${esc(asOf)}</h2>
    <form id="map-form" class="small">
      <label style="display:inline">Date <input id="map-date" type="date" value="${esc(asOf)}"></label>
      <label style="display:inline">Colour by <select id="map-mode"><option value="tier">AI Diffusion tier</option>
        ${groupIds.map((g) => `<option value="${esc(g)}" ${g === mode ? 'selected' : ''}>Country Group ${esc(g)}</option>`).join('')}</select></label>
      <button type="submit">Show</button></form>
    ${mode === 'tier' ? `<p class="small muted">AI Diffusion rule (${esc(data.diffusion.regime)}) on this date: <b>${esc(st)}</b> — tiers are shown as the rule defines them, whether or not it binds.</p>` : ''}
    <div class="legend">${legend}</div>
    <div id="map" class="card"><svg viewBox="0 0 ${mapShapes.width} ${mapShapes.height}" width="100%" role="img" aria-label="world map">${paths}</svg></div>`;
  if (mode === 'tier') $('#map-mode').value = 'tier';
  $('#map-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/map?as_of=${$('#map-date').value}&mode=${encodeURIComponent($('#map-mode').value)}`;
  });
}

// ---- check one order -----------------------------------------------------------------------
async function checkView() {
  view().innerHTML = `<h2>Check one order</h2>
    <form id="check-form" class="card">
      <label><span>Order id</span><input name="id" value="web-1" required></label>
      <label><span>Date</span><input name="date" type="date" value="${today()}" required></label>
      <label><span>Chip (catalog id)</span><input name="chip" value="nvidia-h100-sxm" required></label>
      <label><span>Quantity</span><input name="quantity" type="number" min="1" value="8" required></label>
      <label><span>Destination (ISO)</span><input name="destination" value="IL" size="4" required></label>
      <label><span>Consignee name</span><input name="cname" value="Tel Aviv Inference Ltd" size="40" required></label>
      <label><span>Consignee country</span><input name="ccountry" value="IL" size="4"></label>
      <label><span>Headquarters</span><input name="chq" value="IL" size="4"></label>
      <label><span>Parent headquarters</span><input name="cphq" value="IL" size="4"></label>
      <label><span>End use (text)</span><input name="enduse" value="" size="40"></label>
      <label><span>Ownership checked</span><input name="owned" type="checkbox"> <span class="small muted">no 50%-or-more owner is on a list (the affiliates rule)</span></label>
      <button type="submit">Check</button>
    </form><div id="check-result"></div>`;
  $('#check-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    const opt = (v) => (v && v.trim() ? v.trim() : undefined);
    const order = {
      id: f.id, date: f.date, item: { chip: f.chip }, quantity: Number(f.quantity), destination: f.destination,
      exporter: { name: 'exportgate web', country: 'US' },
      consignee: { name: f.cname, country: opt(f.ccountry), headquarters: opt(f.chq), parent_headquarters: opt(f.cphq) },
    };
    if (opt(f.enduse)) order.end_use = { text: f.enduse };
    if (f.owned) order.consignee.ownership_checked = true;
    const out = $('#check-result');
    try {
      const d = await api('/v1/check', { method: 'POST', body: order });
      out.innerHTML = `<div class="card"><h3>${pill(d.outcome)} ${esc(d.exception || '')} ${esc(d.review_policy || '')}</h3>
        <div>ECCN ${esc(d.eccn)} · TPP ${fmt(d.tpp_total)} · screening ${esc(d.screening.status)} ${d.unconfirmed ? pill('unconfirmed') : ''}</div>
        ${d.review_case ? `<p>Opened <a href="#/case/${d.review_case}">case #${d.review_case}</a> for review.</p>` : ''}
        <table><thead><tr><th>Rule</th><th>Citation</th><th>Why</th></tr></thead><tbody>
        ${d.reasons.map((r) => `<tr><td class="mono">${esc(r.rule)}</td><td>${esc(r.citation)}</td><td>${esc(r.summary)}</td></tr>`).join('')}</tbody></table></div>`;
    } catch (e) { out.innerHTML = `<p class="error" role="alert">${esc(e.message)}</p>`; }
  });
}

// ---- start ---------------------------------------------------------------------------------
if (sessionStorage.getItem('eg-key')) signIn(sessionStorage.getItem('eg-key')).catch(() => {});
