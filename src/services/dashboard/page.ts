// The dashboard's one page: its markup and inline CSS. Its behaviour is client/dashboard.js, a plain ES module
// checked by tsc (JSDoc types) and served as a file, no build step; uPlot comes from /assets (node_modules).
// The client polls /api/state every `pagePollMs` and /api/dlq every `dlqEveryPolls` polls (both handed to it
// as data attributes of <body>), updates the DOM in place and POSTs actions to /api/commands.

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
<body data-poll-ms="${pagePollMs}" data-dlq-every-polls="${dlqEveryPolls}">
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
<script type="module" src="/assets/dashboard.js${escapeHtml(q)}"></script>
</body>
</html>`;
}
