// The dashboard's one page: inline CSS and JS, no build step. uPlot comes from /assets (node_modules).
// The page polls /api/state every `pagePollMs` and /api/dlq every `dlqEveryPolls` polls, updates its DOM in
// place (inputs keep their focus and charts keep their canvas), and POSTs actions to /api/commands.
// Everything from the engine is put into the DOM with textContent, never as HTML.

/** How often the page polls /api/state, ms. */
export const pagePollMs = 1_000;
/** The dead-letter table is refreshed every this many polls. */
export const dlqEveryPolls = 5;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

const css = `
:root { --fg:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#fff; --good:#047857; --bad:#b91c1c; --warn:#b45309; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:12px; padding:10px 20px; background:#0f172a; color:#e2e8f0; flex-wrap:wrap; }
header h1 { font-size:17px; margin:0 12px 0 0; font-weight:600; }
header .spacer { flex:1; }
#conn { font-size:12px; color:#94a3b8; }
#halted-banner { display:none; background:var(--bad); color:#fff; padding:8px 20px; font-weight:600; }
main { padding:16px 20px; display:grid; gap:16px; }
section > h2 { font-size:15px; margin:0 0 8px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
#sessions { display:grid; gap:12px; }
.card.closed { opacity:.75; }
.card-head { display:flex; align-items:center; gap:8px; flex-wrap:wrap; }
.card-head h3 { margin:0; font-size:16px; }
.badge { font-size:12px; padding:1px 8px; border-radius:10px; background:#e2e8f0; }
.badge.active { background:#d1fae5; color:var(--good); }
.badge.stopping { background:#fef3c7; color:var(--warn); }
.badge.closed { background:#e5e7eb; color:var(--muted); }
.badge.danger { background:#fee2e2; color:var(--bad); }
.badge.live { background:#fee2e2; color:var(--bad); font-weight:600; }
.stats { display:grid; grid-template-columns:repeat(auto-fill, minmax(150px, 1fr)); gap:6px 16px; margin:10px 0; }
.stat .k { color:var(--muted); font-size:12px; }
.stat .v { font-variant-numeric:tabular-nums; font-weight:600; }
.stat .v.small { font-weight:400; font-size:12px; }
.pos { color:var(--good); } .neg { color:var(--bad); }
.grid2 { display:grid; grid-template-columns:minmax(460px, 1fr) minmax(320px, 1fr); gap:14px; }
@media (max-width: 900px) { .grid2 { grid-template-columns:1fr; } }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:3px 8px 3px 0; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:500; font-size:12px; }
td.num { font-variant-numeric:tabular-nums; text-align:right; }
th.num { text-align:right; }
.empty { color:var(--muted); font-style:italic; }
.controls { display:flex; gap:6px; align-items:center; flex-wrap:wrap; margin-top:10px; }
button { font:inherit; padding:4px 10px; border-radius:6px; border:1px solid #cbd5e1; background:#fff; cursor:pointer; }
button:hover { background:#f1f5f9; }
button.danger { border-color:#fca5a5; color:var(--bad); }
button:disabled { opacity:.5; cursor:default; }
header button { background:#1e293b; color:#e2e8f0; border-color:#334155; }
header button.danger { color:#fecaca; border-color:#7f1d1d; }
input[type=number] { width:80px; font:inherit; padding:3px 6px; border:1px solid #cbd5e1; border-radius:6px; }
.chart { min-height:170px; }
.muted { color:var(--muted); font-size:12px; }
#command-log { list-style:none; margin:0; padding:0; font-size:13px; max-height:150px; overflow:auto; }
#command-log li { padding:2px 0; border-bottom:1px dashed var(--line); }
#command-log li[data-status=rejected], #command-log li[data-status=error] { color:var(--bad); }
#command-log li[data-status=done] { color:var(--good); }
.mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; word-break:break-all; }
`;

// Plain JS (no template literals inside, so the TS template below needs no escaping).
const script = `
(function () {
  'use strict';
  var pollMs = ${pagePollMs};
  var dlqEveryPolls = ${dlqEveryPolls};
  var token = new URLSearchParams(location.search).get('token');
  var authHeaders = token ? { Authorization: 'Bearer ' + token } : {};
  var cards = new Map();
  var pendingCommands = new Map();
  var polls = 0;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'className') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function num(n, digits) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function usd(n) { return (typeof n === 'number' && n < 0 ? '-$' : '$') + num(Math.abs(n), 2); }
  function signedUsd(n) { return (n > 0 ? '+' : '') + usd(n); }
  function time(ms) { return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z'; }
  function ago(ms, now) { var s = Math.max(0, Math.round((now - ms) / 1000)); return s < 60 ? s + ' s ago' : Math.round(s / 60) + ' min ago'; }
  function setField(root, name, text, cls) {
    var f = root.querySelector('[data-field="' + name + '"]');
    if (!f) return;
    if (f.textContent !== text) f.textContent = text;
    if (cls !== undefined) f.className = 'v ' + cls;
  }
  function fillRows(tbody, rows, emptyText, cols) {
    tbody.textContent = '';
    if (rows.length === 0) { tbody.appendChild(el('tr', null, [el('td', { colspan: String(cols), className: 'empty', text: emptyText })])); return; }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function td(text, cls) { return el('td', { text: text, className: cls || '' }); }

  function api(path, init) {
    init = init || {};
    init.headers = Object.assign({}, authHeaders, init.headers || {});
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) { return { status: res.status, body: body }; });
    });
  }

  // --- commands -----------------------------------------------------------------------------------
  function logCommand(label) {
    var li = el('li', { 'data-status': 'sending', text: label + ': sending…' });
    var list = $('#command-log');
    list.insertBefore(li, list.firstChild);
    return li;
  }
  function showReply(li, label, reply) {
    li.setAttribute('data-status', reply.status);
    li.setAttribute('data-command-id', reply.commandId);
    li.textContent = label + ': ' + reply.status + (reply.reason ? ' (' + reply.reason + ')' : '');
  }
  function send(action, extra, label) {
    var li = logCommand(label);
    var body = Object.assign({ action: action }, extra || {});
    return api('/api/commands', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (res) {
        if (res.body && res.body.reply) {
          showReply(li, label, res.body.reply);
          if (res.body.reply.status === 'accepted') pendingCommands.set(res.body.commandId, { li: li, label: label });
        } else {
          li.setAttribute('data-status', 'error');
          if (res.body && res.body.commandId) {
            li.setAttribute('data-command-id', res.body.commandId);
            pendingCommands.set(res.body.commandId, { li: li, label: label });
          }
          li.textContent = label + ': ' + ((res.body && res.body.error) || ('HTTP ' + res.status));
        }
        return poll();
      })
      .catch(function (err) { li.setAttribute('data-status', 'error'); li.textContent = label + ': ' + err; });
  }
  function followPending(replies) {
    pendingCommands.forEach(function (p, id) {
      for (var i = replies.length - 1; i >= 0; i--) {
        var r = replies[i];
        if (r.commandId === id && r.status !== 'accepted') { showReply(p.li, p.label, r); pendingCommands.delete(id); return; }
      }
    });
  }

  // --- sessions -----------------------------------------------------------------------------------
  var statDefs = [
    ['capital', 'capital'], ['equity', 'equity at bid/ask'], ['pnl', 'PnL'], ['unrealized', 'unrealized (bid/ask)'],
    ['realized', 'realized'], ['exposure', 'gross exposure (bid/ask)'], ['stoploss', 'stop-loss'], ['horizon', 'horizon'], ['asof', 'as of']
  ];
  function createCard(userId) {
    var stats = el('div', { className: 'stats' }, statDefs.map(function (d) {
      return el('div', { className: 'stat' }, [el('div', { className: 'k', text: d[1] }), el('div', { className: 'v', 'data-field': d[0] })]);
    }));
    var posTable = el('table', { 'data-table': 'positions' }, [
      el('thead', null, [el('tr', null, ['symbol', 'side', 'qty', 'entry', 'exit (bid/ask)', 'notional (bid/ask)', 'unrealized'].map(function (h, i) { return el('th', { text: h, className: i > 1 ? 'num' : '' }); }))]),
      el('tbody')
    ]);
    var ordTable = el('table', { 'data-table': 'orders' }, [
      el('thead', null, [el('tr', null, ['symbol', 'side', 'qty', 'price', 'status', 'purpose', 'client id'].map(function (h) { return el('th', { text: h }); }))]),
      el('tbody')
    ]);
    var chartBox = el('div', { className: 'chart', 'data-chart': userId });
    var slInput = el('input', { type: 'number', min: '0.1', max: '99', step: '0.1', placeholder: 'pct', 'data-input': 'stoploss' });
    var stopBtn = el('button', { className: 'danger', 'data-action': 'stop', text: 'Stop' });
    var pauseBtn = el('button', { 'data-action': 'pause', text: 'Pause' });
    var refreshBtn = el('button', { 'data-action': 'status', text: 'Refresh' });
    var slBtn = el('button', { 'data-action': 'set_stoploss', text: 'Set stop-loss %' });
    var card = el('div', { className: 'card', 'data-user': userId }, [
      el('div', { className: 'card-head' }, [
        el('h3', { text: userId }),
        el('span', { className: 'badge', 'data-field': 'mode' }),
        el('span', { className: 'badge', 'data-field': 'status' }),
        el('span', { className: 'badge', 'data-field': 'paused' }),
        el('span', { className: 'badge danger', 'data-field': 'killswitch' })
      ]),
      stats,
      el('div', { className: 'grid2' }, [
        el('div', null, [
          el('div', { className: 'muted', text: 'Positions, valued where they could be closed now (longs at the bid, shorts at the ask)' }), posTable,
          el('div', { className: 'muted', 'data-field': 'unpriced' }),
          el('div', { className: 'muted', text: 'Open orders', style: 'margin-top:8px' }), ordTable
        ]),
        el('div', null, [el('div', { className: 'muted', text: 'Equity at bid/ask' }), chartBox])
      ]),
      el('div', { className: 'controls' }, [stopBtn, pauseBtn, refreshBtn, slInput, slBtn])
    ]);
    stopBtn.addEventListener('click', function () {
      if (!confirm('Stop the session of ' + userId + '? Open orders are cancelled and positions flattened.')) return;
      send('stop', { userId: userId }, 'stop ' + userId);
    });
    pauseBtn.addEventListener('click', function () {
      var action = pauseBtn.getAttribute('data-action');
      send(action, { userId: userId }, action + ' ' + userId);
    });
    refreshBtn.addEventListener('click', function () { send('status', { userId: userId }, 'status ' + userId); });
    slBtn.addEventListener('click', function () {
      var pct = Number(slInput.value);
      if (!slInput.value || !isFinite(pct)) { var li = logCommand('set_stoploss ' + userId); li.setAttribute('data-status', 'error'); li.textContent = 'set_stoploss ' + userId + ': enter a percentage'; return; }
      send('set_stoploss', { userId: userId, pct: pct }, 'set_stoploss ' + pct + '% ' + userId);
    });
    $('#sessions').appendChild(card);
    var entry = { card: card, chart: null, chartBox: chartBox, pauseBtn: pauseBtn, stopBtn: stopBtn, lastPoints: -1, lastX: null };
    cards.set(userId, entry);
    return entry;
  }

  function updateChart(entry, points) {
    if (typeof uPlot === 'undefined') return;
    var lastX = points.length ? points[points.length - 1][0] : null;
    if (entry.chart && points.length === entry.lastPoints && lastX === entry.lastX) return;
    entry.lastPoints = points.length; entry.lastX = lastX;
    var data = [points.map(function (p) { return p[0] / 1000; }), points.map(function (p) { return p[1]; })];
    var width = Math.max(280, entry.chartBox.clientWidth || 400);
    if (!entry.chart) {
      entry.chart = new uPlot({
        width: width, height: 160, legend: { show: false }, cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        series: [{}, { label: 'equity', stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.08)', points: { show: points.length < 40, size: 5 } }],
        axes: [{}, { size: 80, values: function (u, vals) {
          var step = vals.length > 1 ? Math.abs(vals[1] - vals[0]) : 1;
          var d = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
          return vals.map(function (v) { return '$' + num(v, d); });
        } }]
      }, data, entry.chartBox);
    } else {
      entry.chart.setData(data);
    }
  }

  function renderSession(s, now) {
    var entry = cards.get(s.userId) || createCard(s.userId);
    var m = s.summary, card = entry.card;
    card.className = 'card ' + m.status;
    var f = function (n, t, c) { setField(card, n, t, c); };
    var badge = function (n, t, cls) { var b = card.querySelector('[data-field="' + n + '"]'); b.textContent = t; b.className = 'badge ' + cls; b.style.display = t ? '' : 'none'; };
    badge('mode', m.mode, m.mode === 'live' ? 'live' : '');
    badge('status', m.status, m.status);
    badge('paused', m.paused ? 'paused' : '', 'stopping');
    badge('killswitch', m.killSwitch && m.killSwitch.engaged ? 'kill switch: ' + (m.killSwitch.reason || 'engaged') : '', 'danger');
    var pnl = m.equityUsd - m.capitalUsd;
    f('capital', usd(m.capitalUsd));
    f('equity', usd(m.equityUsd));
    f('pnl', signedUsd(pnl) + ' (' + num(100 * pnl / m.capitalUsd, 2) + '%)', pnl >= 0 ? 'pos' : 'neg');
    f('unrealized', signedUsd(m.unrealizedPnlUsd), m.unrealizedPnlUsd >= 0 ? 'pos' : 'neg');
    f('realized', signedUsd(m.realizedPnlUsd), m.realizedPnlUsd >= 0 ? 'pos' : 'neg');
    f('exposure', usd(m.grossExposureUsd));
    f('stoploss', m.stopLossPct === null ? 'none' : m.stopLossPct + '%');
    f('horizon', m.horizonDeadline === null ? 'none' : m.horizonDeadline.replace('T', ' ').slice(0, 16) + 'Z');
    f('asof', ago(s.summaryAtMs, now) + ' (' + s.source + ')', 'small');
    f('unpriced', m.unpricedSymbols && m.unpricedSymbols.length ? 'no quote for ' + m.unpricedSymbols.join(', ') + ' (not in equity)' : '');
    var posRows = Object.keys(m.positions).filter(function (sym) { return m.positions[sym].qty !== 0; }).sort().map(function (sym) {
      var p = m.positions[sym];
      return el('tr', { 'data-symbol': sym }, [td(sym), td(p.qty > 0 ? 'long' : 'short', p.qty > 0 ? 'pos' : 'neg'), td(num(Math.abs(p.qty), 6), 'num'), td(num(p.entryPrice, 2), 'num'),
        td(typeof p.exitPrice === 'number' ? num(p.exitPrice, 2) : 'no quote', 'num'), td(typeof p.notionalUsd === 'number' ? usd(p.notionalUsd) : '?', 'num'),
        td(typeof p.unrealizedPnlUsd === 'number' ? signedUsd(p.unrealizedPnlUsd) : '?', 'num ' + (p.unrealizedPnlUsd >= 0 ? 'pos' : 'neg'))]);
    });
    fillRows(card.querySelector('[data-table=positions] tbody'), posRows, 'flat', 7);
    var ordRows = m.openOrders.map(function (o) {
      return el('tr', null, [td(o.symbol), td(o.side), td(String(o.quantity), 'num'), td(o.price === null || o.price === undefined ? 'market' : String(o.price), 'num'), td(o.status), td(o.purpose), td(o.clientOrderId, 'mono')]);
    });
    fillRows(card.querySelector('[data-table=orders] tbody'), ordRows, 'none', 7);
    var closed = m.status === 'closed';
    entry.stopBtn.disabled = m.status !== 'active';
    entry.pauseBtn.setAttribute('data-action', m.paused ? 'resume' : 'pause');
    entry.pauseBtn.textContent = m.paused ? 'Resume' : 'Pause';
    card.querySelectorAll('.controls button, .controls input').forEach(function (b) { if (b !== entry.stopBtn && b.getAttribute('data-action') !== 'status') b.disabled = closed; });
    updateChart(entry, s.equity);
  }

  function renderState(st) {
    var now = st.nowMs || Date.now();
    $('#halted-banner').style.display = st.halted ? 'block' : 'none';
    $('#sessions-empty').style.display = st.sessions.length ? 'none' : '';
    st.sessions.forEach(function (s) { renderSession(s, now); });
    fillRows($('#alerts tbody'), st.alerts.slice().reverse().map(function (a) {
      return el('tr', null, [td(time(a.atMs)), td(a.userId), td(a.kind), td(a.message)]);
    }), 'no alerts', 4);
    fillRows($('#replies tbody'), st.replies.slice().reverse().slice(0, 50).map(function (r) {
      return el('tr', null, [td(time(r.atMs)), td(r.commandType || '?'), td(r.userId || '?'), td(r.status), td(r.reason || ''), td(r.commandId, 'mono')]);
    }), 'no replies yet', 6);
    followPending(st.replies);
    var fs = st.follower || {};
    $('#conn').textContent = (fs.caughtUp ? 'live' : 'catching up') + ' · ' + st.foldedEvents + ' events' + (fs.lastError ? ' · read error: ' + fs.lastError : '') + ' · updated ' + new Date().toLocaleTimeString();
  }

  function renderDlq(d) {
    $('#dlq-depth').textContent = String(d.depth);
    fillRows($('#dlq tbody'), d.entries.slice().reverse().map(function (x) {
      var shown = x.raw.length > 200 ? x.raw.slice(0, 200) + '…' : x.raw;
      return el('tr', null, [td(x.id, 'mono'), td(x.reason), td(shown, 'mono'), td(String(x.rawBytes), 'num'), td(String(x.rawSha256).slice(0, 16), 'mono')]);
    }), 'empty', 5);
  }

  var polling = null;
  function poll() {
    if (polling) return polling;
    polling = api('/api/state').then(function (res) {
      if (res.status !== 200) { $('#conn').textContent = 'state: HTTP ' + res.status + ' ' + (res.body.error || ''); return; }
      renderState(res.body);
      if (polls++ % dlqEveryPolls === 0) return api('/api/dlq').then(function (d) { if (d.status === 200) renderDlq(d.body); });
    }).catch(function (err) { $('#conn').textContent = 'offline: ' + err; })
      .then(function () { polling = null; });
    return polling;
  }

  $('#halt-all').addEventListener('click', function () {
    var reason = prompt('Halt ALL trading (every session is flattened)? Reason:', 'operator halt from dashboard');
    if (reason === null) return;
    send('halt_all', reason ? { reason: reason.slice(0, 200) } : {}, 'halt_all');
  });
  $('#resume-all').addEventListener('click', function () { send('resume_all', {}, 'resume_all'); });
  poll();
  setInterval(poll, pollMs);
})();
`;

export function renderPage(opts: { token: string | null }): string {
  const q = opts.token ? `?token=${encodeURIComponent(opts.token)}` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Quant Engine dashboard</title>
<link rel="stylesheet" href="/assets/uPlot.min.css${escapeHtml(q)}">
<style>${css}</style>
</head>
<body>
<header>
  <h1>Quant Engine</h1>
  <span id="conn">connecting…</span>
  <span class="spacer"></span>
  <button id="halt-all" class="danger" data-action="halt_all">Halt all</button>
  <button id="resume-all" data-action="resume_all">Resume all</button>
</header>
<div id="halted-banner">Trading is HALTED by an operator: every session is being flattened and no entries are placed.</div>
<main>
  <section class="card"><h2>Commands</h2><ul id="command-log"></ul></section>
  <section><h2>Sessions</h2><div id="sessions"><p id="sessions-empty" class="empty">No sessions seen on the outbound stream yet.</p></div></section>
  <section class="card"><h2>Alerts</h2><table id="alerts"><thead><tr><th>time</th><th>user</th><th>kind</th><th>message</th></tr></thead><tbody></tbody></table></section>
  <section class="card"><h2>Recent replies</h2><table id="replies"><thead><tr><th>time</th><th>command</th><th>user</th><th>status</th><th>reason</th><th>id</th></tr></thead><tbody></tbody></table></section>
  <section class="card"><h2>Dead-letter queue (<span id="dlq-depth">?</span>)</h2><table id="dlq"><thead><tr><th>id</th><th>reason</th><th>entry</th><th>bytes</th><th>sha256</th></tr></thead><tbody></tbody></table></section>
</main>
<script src="/assets/uPlot.iife.min.js${escapeHtml(q)}"></script>
<script>${script}</script>
</body>
</html>`;
}
