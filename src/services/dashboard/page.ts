import { maxEquityPointsPerSession, maxRecentAlerts, maxRecentReplies } from './read-model.js';
import { defaultDashboardDailyDays } from './closed-view.js';

// The dashboard's one page: its markup and inline CSS. Its behaviour is client/dashboard.js, a plain ES module
// checked by tsc (JSDoc types) and served as a file, no build step; uPlot comes from /assets (node_modules).
// The client follows /api/events (server-sent events: a snapshot, then what changed) and reads /api/dlq (and, on a
// partitioned deployment, /api/cluster) every `dlqPollMs`; the bounds it needs come as data attributes of <body>. It updates the DOM in place and POSTs
// actions to /api/commands.

/** How often the page reads the dead-letter table (small and bounded: depth + newest entries), ms. */
export const dlqPollMs = 5_000;
/** Rows a page of the closed-trade, alerts, replies and dead-letter tables shows: the page keeps a steady height. */
export const tableRowsPerPage = 10;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

const css = `
:root { --fg:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#fff; --good:#047857; --bad:#b91c1c; --warn:#b45309; --accent:#2563eb; }
* { box-sizing: border-box; }
html, body { max-width:100%; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:8px 12px; padding:10px 20px; background:#0f172a; color:#e2e8f0; flex-wrap:wrap; }
header h1 { font-size:17px; margin:0 12px 0 0; font-weight:600; }
header .spacer { flex:1; }
#conn { font-size:12px; color:#94a3b8; min-width:0; overflow-wrap:anywhere; }
#halted-banner { display:none; background:var(--bad); color:#fff; padding:8px 20px; font-weight:600; }
main { padding:16px 20px; display:grid; grid-template-columns:minmax(0, 1fr); gap:16px; }
section { min-width:0; }
section > h2 { font-size:15px; margin:0 0 8px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
#sessions { display:grid; grid-template-columns:minmax(0, 1fr); gap:12px; }
.card.closed { opacity:.8; }
.card-head { display:flex; align-items:center; gap:8px; flex-wrap:wrap; }
.card-head h3 { margin:0; font-size:16px; overflow-wrap:anywhere; }
.next-step { margin:6px 0 0; font-size:13px; padding:6px 10px; border-radius:6px; background:#f1f5f9; }
.next-step.danger { background:#fee2e2; color:var(--bad); }
.next-step.warn { background:#fef3c7; color:var(--warn); }
.badge { font-size:12px; padding:1px 8px; border-radius:10px; background:#e2e8f0; white-space:nowrap; }
.badge.active { background:#d1fae5; color:var(--good); }
.badge.stopping, .badge.paused { background:#fef3c7; color:var(--warn); }
.badge.closed { background:#e5e7eb; color:var(--muted); }
.badge.danger { background:#fee2e2; color:var(--bad); }
.badge.live { background:#fee2e2; color:var(--bad); font-weight:600; }
.stats { display:grid; grid-template-columns:repeat(auto-fill, minmax(140px, 1fr)); gap:6px 16px; margin:10px 0; }
.stat { min-width:0; }
.stat .k { color:var(--muted); font-size:12px; }
.stat .v { font-variant-numeric:tabular-nums; font-weight:600; overflow-wrap:anywhere; }
.stat .v.small { font-weight:400; font-size:12px; }
.pos { color:var(--good); } .neg { color:var(--bad); }
.grid2 { display:grid; grid-template-columns:minmax(0, 1fr) minmax(0, 1fr); gap:14px; }
@media (max-width: 900px) { .grid2 { grid-template-columns:minmax(0, 1fr); } }
@media (max-width: 600px) { header, main { padding-left:10px; padding-right:10px; } .card { padding:10px; } }
.table-wrap { overflow-x:auto; max-width:100%; }
.table-wrap td.mono { word-break:normal; white-space:nowrap; }
/* On a phone the log and trade tables become one block per row: its cells wrap as words do, a message on a line of its own. */
@media (max-width: 600px) {
  table.stack, table.stack tbody { display:block; }
  table.stack thead { display:none; }
  table.stack tr { display:flex; flex-wrap:wrap; align-items:baseline; padding:4px 0; border-bottom:1px solid var(--line); }
  table.stack td { display:block; border:0; padding:0 8px 0 0; }
  table.stack td.msg, table.stack td.mono { flex-basis:100%; white-space:normal; word-break:break-all; }
  table.stack td.msg:empty { display:none; }
  table.stack td[data-label]::before { content:attr(data-label) " "; color:var(--muted); }
  table.stack td.time { color:var(--muted); }
}
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:3px 8px 3px 0; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:500; font-size:12px; white-space:nowrap; }
td.num { font-variant-numeric:tabular-nums; text-align:right; white-space:nowrap; }
td.time { white-space:nowrap; font-variant-numeric:tabular-nums; }
td.msg { overflow-wrap:anywhere; min-width:160px; }
th.num { text-align:right; }
.empty { color:var(--muted); font-style:italic; }
.controls { display:flex; gap:6px; align-items:center; flex-wrap:wrap; margin-top:10px; }
.controls .group { display:flex; gap:6px; align-items:center; }
button, select { font:inherit; padding:4px 10px; border-radius:6px; border:1px solid #cbd5e1; background:#fff; cursor:pointer; white-space:nowrap; }
button:hover { background:#f1f5f9; }
button.danger { border-color:#fca5a5; color:var(--bad); }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button:disabled { opacity:.45; cursor:not-allowed; }
header button { background:#1e293b; color:#e2e8f0; border-color:#334155; }
header button:hover { background:#334155; }
header button.danger { color:#fecaca; border-color:#7f1d1d; }
input[type=number], input[type=text] { width:90px; font:inherit; padding:3px 6px; border:1px solid #cbd5e1; border-radius:6px; }
input[type=text] { width:140px; }
#start-form { display:flex; flex-wrap:wrap; gap:8px 12px; align-items:flex-end; }
#start-form label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
#start-error { color:var(--bad); font-size:13px; margin:6px 0 0; min-height:1em; }
.chart { position:relative; min-height:210px; min-width:0; overflow:hidden; }
.chart .uplot { font-size:12px; }
.chart .u-legend { font-size:12px; }
.chart .u-legend .u-series > * { padding:1px 3px; }
.chart-tip { position:absolute; pointer-events:none; background:rgba(15,23,42,.92); color:#f8fafc; font-size:12px; padding:4px 8px; border-radius:6px; max-width:calc(100% - 8px); display:none; z-index:5; }
.muted { color:var(--muted); font-size:12px; }
.pager { display:flex; gap:8px; align-items:center; flex-wrap:wrap; margin-top:8px; font-size:13px; }
.pager .spacer { flex:1; }
.section-head { display:flex; gap:8px; align-items:center; flex-wrap:wrap; margin-bottom:8px; }
.section-head h2 { font-size:15px; margin:0; }
#command-log { list-style:none; margin:0; padding:0; font-size:13px; max-height:150px; overflow:auto; }
#command-log li { padding:2px 0; border-bottom:1px dashed var(--line); overflow-wrap:anywhere; }
#command-log li[data-status=rejected], #command-log li[data-status=error] { color:var(--bad); }
#command-log li[data-status=done] { color:var(--good); }
#closed-summary { flex-basis:100%; }
h3.sub { font-size:13px; margin:10px 0 4px; color:var(--muted); font-weight:500; }
/* Daily profit: one bar a UTC day, gains up from the middle line, losses down, scaled to the largest day. */
.bars { display:flex; align-items:stretch; gap:2px; height:120px; border-bottom:1px solid var(--line); position:relative; }
.bars::before { content:""; position:absolute; left:0; right:0; top:50%; border-top:1px solid #cbd5e1; }
.bars .day { flex:1 1 0; min-width:0; position:relative; }
.bars .day:hover { background:#f1f5f9; }
.bars .day span { position:absolute; left:0; right:0; border-radius:2px; }
.bars .day.pos span { bottom:50%; background:var(--good); }
.bars .day.neg span { top:50%; background:var(--bad); }
.bars-axis { display:flex; justify-content:space-between; font-size:12px; color:var(--muted); margin-top:2px; }
.mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; word-break:break-all; }
`;

export function renderPage(opts: { token: string | null; allowLiveStart: boolean; partitioned: boolean }): string {
  const q = opts.token ? `?token=${encodeURIComponent(opts.token)}` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Quant Engine dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uPlot.min.css${escapeHtml(q)}">
<style>${css}</style>
</head>
<body data-dlq-poll-ms="${dlqPollMs}" data-rows-per-page="${tableRowsPerPage}" data-max-points="${maxEquityPointsPerSession}" data-max-alerts="${maxRecentAlerts}" data-max-replies="${maxRecentReplies}" data-live-start="${opts.allowLiveStart ? '1' : '0'}" data-partitioned="${opts.partitioned ? '1' : '0'}">
<header>
  <h1>Quant Engine</h1>
  <span id="conn">connecting…</span>
  <span class="spacer"></span>
  <button id="halt-all" class="danger" data-action="halt_all">Halt all</button>
  <button id="resume-all" data-action="resume_all">Resume all</button>
</header>
<div id="halted-banner">Trading is HALTED by an operator: every session is being flattened and no entries are placed. Next: Resume all once it is safe.</div>
<main>
  <section><h2>Sessions</h2><div id="sessions"><p id="sessions-empty" class="empty">No sessions seen on the outbound stream yet.</p></div></section>
  <section class="card"><h2>Start a session</h2>
    <form id="start-form" novalidate>
      <label>user<input type="text" name="userId" required maxlength="64" placeholder="e.g. alice" autocomplete="off"></label>
      <label>mode<select name="mode"><option value="paper">paper</option>${opts.allowLiveStart ? '<option value="live">live (real money)</option>' : ''}</select></label>
      <label>capital, USD<input type="number" name="capitalUsd" min="0" step="any" placeholder="1000" inputmode="decimal"></label>
      <label>stop-loss, %<input type="number" name="stopLossPct" min="0" max="99.9" step="any" placeholder="optional" inputmode="decimal"></label>
      <label>horizon, hours<input type="number" name="horizonHours" min="0" step="any" placeholder="optional" inputmode="decimal"></label>
      <button type="submit" class="primary" data-action="start">Start</button>
    </form>
    <p id="start-error" role="alert"></p>
    <p class="muted">${opts.allowLiveStart ? 'Live sessions trade real money; the engine also needs LIVE_TRADING=1 and an approval.' : 'Paper only: this dashboard does not start live sessions.'}</p>
  </section>
  <section class="card"><h2>Commands</h2><ul id="command-log"></ul></section>
  <section class="card" id="closed-section">
    <div class="section-head"><h2>Closed trades</h2>
      <select id="closed-user" aria-label="user"></select>
      <span id="closed-summary" class="muted">no sessions yet</span>
    </div>
    <h3 class="sub">Daily profit, net of fees and funding (UTC, last ${defaultDashboardDailyDays} days)</h3>
    <div id="daily-bars" class="bars" role="img" aria-label="daily profit"></div>
    <div class="bars-axis"><span data-field="first-day"></span><span data-field="last-day"></span></div>
    <div class="grid2">
      <div><h3 class="sub">Per symbol</h3>
        <div class="table-wrap"><table id="performance"><thead><tr><th>symbol</th><th class="num">trades</th><th class="num">won</th><th class="num">net</th></tr></thead><tbody></tbody></table></div>
      </div>
      <div><h3 class="sub">Trades, newest first</h3>
        <div class="table-wrap"><table id="closed" class="stack"><thead><tr><th>closed (UTC)</th><th>symbol</th><th>side</th><th class="num">net</th><th class="num">qty</th><th class="num">entry</th><th class="num">exit</th></tr></thead><tbody></tbody></table></div>
        <div class="pager" data-pager="closed"></div>
      </div>
    </div>
  </section>
  <section class="card" id="alerts-section">
    <div class="section-head"><h2>Alerts</h2><span class="muted">fills are under Closed trades</span></div>
    <div class="table-wrap"><table id="alerts" class="stack"><thead><tr><th>time (UTC)</th><th>user</th><th>kind</th><th>message</th></tr></thead><tbody></tbody></table></div>
    <div class="pager" data-pager="alerts"></div>
  </section>
  <section class="card"><h2>Recent replies</h2>
    <div class="table-wrap"><table id="replies" class="stack"><thead><tr><th>time (UTC)</th><th>command</th><th>user</th><th>status</th><th>reason</th><th>id</th></tr></thead><tbody></tbody></table></div>
    <div class="pager" data-pager="replies"></div>
  </section>
  <section class="card" id="cluster-card" hidden><h2>Workers</h2>
    <div class="table-wrap"><table id="cluster" class="stack"><thead><tr><th>partition</th><th>worker</th><th>token</th><th>lease left</th><th>commands waiting</th><th>sessions</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section class="card"><h2>Dead-letter queue (<span id="dlq-depth">?</span>)</h2>
    <div class="table-wrap"><table id="dlq" class="stack"><thead><tr><th>id</th><th>reason</th><th>entry</th><th>bytes</th><th>sha256</th></tr></thead><tbody></tbody></table></div>
    <div class="pager" data-pager="dlq"></div>
  </section>
</main>
<script src="/assets/uPlot.iife.min.js${escapeHtml(q)}"></script>
<script type="module" src="/assets/dashboard.js${escapeHtml(q)}"></script>
</body>
</html>`;
}
