// @ts-check
// The dashboard page's behaviour, run in the browser as an ES module (served as is at /assets/dashboard.js: no
// build step). tsc checks it through the JSDoc types below, against the DOM library and the server's own types
// for the JSON it reads (../api-types.ts), so a change of shape on the server fails the typecheck here.
//
// It polls /api/state and, every few polls, /api/dlq; updates the DOM in place (inputs keep their focus and
// charts keep their canvas) and POSTs actions to /api/commands. Everything from the engine is put into the DOM
// with textContent, never as HTML.

/** @typedef {import('../api-types.js').StateResponse} StateResponse */
/** @typedef {import('../api-types.js').DlqResponse} DlqResponse */
/** @typedef {import('../api-types.js').CommandResponse} CommandResponse */
/** @typedef {import('../api-types.js').DashboardCommand} DashboardCommand */
/** @typedef {StateResponse['sessions'][number]} SessionState */
/** @typedef {StateResponse['replies'][number]} Reply */
/** @typedef {import('uplot')} UPlot */

/**
 * What is kept of one session's card to update it in place.
 * @typedef {object} Card
 * @property {HTMLDivElement} card
 * @property {UPlot | null} chart
 * @property {HTMLDivElement} chartBox
 * @property {HTMLButtonElement} pauseBtn
 * @property {HTMLButtonElement} stopBtn
 * @property {number} lastPoints how many points the chart was last drawn with (-1: never)
 * @property {number | null} lastX time of the last point drawn, s
 */

/**
 * The element at `selector` under `root`, of the given type. The page's markup (page.ts) and the cards built
 * here always hold it, so a missing one is a bug: it throws at once rather than failing later on null.
 * @template {Element} E
 * @param {string} selector
 * @param {{ new (): E }} type
 * @param {ParentNode} [root]
 * @returns {E}
 */
function required(selector, type, root = document) {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`dashboard: no ${type.name} at ${selector}`);
  return found;
}

/**
 * A positive integer the server handed over as a data attribute of <body> (see page.ts).
 * @param {string} name the attribute's dataset name (data-poll-ms → pollMs)
 */
function bodySetting(name) {
  const value = Number(document.body.dataset[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`dashboard: <body> has no valid data attribute for ${name}`);
  return value;
}

const pollMs = bodySetting('pollMs');
const dlqEveryPolls = bodySetting('dlqEveryPolls');
// The page was opened with ?token= when the dashboard has one; every fetch carries it as a header.
const token = new URLSearchParams(location.search).get('token');
/** @type {Record<string, string>} */
const authHeaders = token ? { Authorization: `Bearer ${token}` } : {};

const page = {
  conn: required('#conn', HTMLElement),
  haltedBanner: required('#halted-banner', HTMLElement),
  sessions: required('#sessions', HTMLElement),
  sessionsEmpty: required('#sessions-empty', HTMLElement),
  commandLog: required('#command-log', HTMLUListElement),
  alertRows: required('#alerts tbody', HTMLTableSectionElement),
  replyRows: required('#replies tbody', HTMLTableSectionElement),
  dlqDepth: required('#dlq-depth', HTMLElement),
  dlqRows: required('#dlq tbody', HTMLTableSectionElement),
  haltAll: required('#halt-all', HTMLButtonElement),
  resumeAll: required('#resume-all', HTMLButtonElement),
};

/** @type {Map<string, Card>} */
const cards = new Map();
/** Commands accepted but not finished: their log line is updated when a later reply (done/rejected) shows up. */
/** @type {Map<string, { li: HTMLLIElement, label: string }>} */
const pendingCommands = new Map();
let polls = 0;

// --- DOM and formatting helpers ---------------------------------------------------------------------------

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string> | null} [attrs] `text` sets the text, `className` the class, the rest are attributes
 * @param {(Node | null)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attrs = null, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k === 'text') e.textContent = v;
    else if (k === 'className') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.appendChild(c);
  return e;
}

/**
 * @param {number | null | undefined} n
 * @param {number} digits
 */
function num(n, digits) {
  if (typeof n !== 'number' || !isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
/** @param {number} n */
function usd(n) {
  return (n < 0 ? '-$' : '$') + num(Math.abs(n), 2);
}
/** @param {number} n */
function signedUsd(n) {
  return (n > 0 ? '+' : '') + usd(n);
}
/** @param {number} ms */
function time(ms) {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}
/**
 * @param {number} ms
 * @param {number} now
 */
function ago(ms, now) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}
/** @param {number | null | undefined} n */
function signClass(n) {
  return typeof n === 'number' ? (n >= 0 ? 'pos' : 'neg') : '';
}

/**
 * Sets a stat's text (only when it changed, so a selection survives) and, when given, its class.
 * @param {ParentNode} root
 * @param {string} name
 * @param {string} text
 * @param {string} [cls]
 */
function setField(root, name, text, cls) {
  const f = root.querySelector(`[data-field="${name}"]`);
  if (!f) return;
  if (f.textContent !== text) f.textContent = text;
  if (cls !== undefined) f.className = `v ${cls}`;
}
/**
 * @param {HTMLTableSectionElement} tbody
 * @param {HTMLTableRowElement[]} rows
 * @param {string} emptyText shown in one row spanning `cols` columns when there is no row
 * @param {number} cols
 */
function fillRows(tbody, rows, emptyText, cols) {
  tbody.textContent = '';
  if (rows.length === 0) {
    tbody.appendChild(el('tr', null, [el('td', { colspan: String(cols), className: 'empty', text: emptyText })]));
    return;
  }
  for (const r of rows) tbody.appendChild(r);
}
/**
 * @param {string} text
 * @param {string} [cls]
 */
function td(text, cls) {
  return el('td', { text, className: cls ?? '' });
}

/**
 * A request with the page's token. The body is the answer's JSON, or {} when it is not JSON (a proxy's error
 * page): callers look at the status first, then read the body as the endpoint's documented type.
 * @param {string} path
 * @param {{ method?: string, headers?: Record<string, string>, body?: string }} [init]
 * @returns {Promise<{ status: number, body: unknown }>}
 */
function api(path, init = {}) {
  return fetch(path, { ...init, headers: { ...authHeaders, ...init.headers } }).then((res) =>
    res
      .json()
      .catch(() => ({}))
      .then((/** @type {unknown} */ body) => ({ status: res.status, body })),
  );
}
/** @param {unknown} body */
function errorOf(body) {
  return typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string' ? body.error : '';
}

// --- commands ---------------------------------------------------------------------------------------------

/** @param {string} label */
function logCommand(label) {
  const li = el('li', { 'data-status': 'sending', text: `${label}: sending…` });
  page.commandLog.insertBefore(li, page.commandLog.firstChild);
  return li;
}
/**
 * @param {HTMLLIElement} li
 * @param {string} label
 * @param {Reply} reply
 */
function showReply(li, label, reply) {
  li.setAttribute('data-status', reply.status);
  li.setAttribute('data-command-id', reply.commandId);
  li.textContent = `${label}: ${reply.status}${reply.reason ? ` (${reply.reason})` : ''}`;
}
/**
 * Posts a command, shows its first answer in the command log, then polls at once so the page shows its effect.
 * @param {DashboardCommand} command
 * @param {string} label
 */
function send(command, label) {
  const li = logCommand(label);
  return api('/api/commands', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(command) })
    .then((res) => {
      const body = /** @type {CommandResponse | Record<string, never>} */ (res.body);
      if ('reply' in body) {
        showReply(li, label, body.reply);
        if (body.reply.status === 'accepted') pendingCommands.set(body.commandId, { li, label });
      } else {
        li.setAttribute('data-status', 'error');
        // Appended but not answered in time (504): the reply may still come and is followed like an accepted one.
        if ('commandId' in body) {
          li.setAttribute('data-command-id', body.commandId);
          pendingCommands.set(body.commandId, { li, label });
        }
        li.textContent = `${label}: ${('error' in body && body.error) || `HTTP ${res.status}`}`;
      }
      return poll();
    })
    .catch((/** @type {unknown} */ err) => {
      li.setAttribute('data-status', 'error');
      li.textContent = `${label}: ${String(err)}`;
    });
}
/** @param {Reply[]} replies oldest first */
function followPending(replies) {
  pendingCommands.forEach((p, id) => {
    for (let i = replies.length - 1; i >= 0; i--) {
      const r = replies[i];
      if (r && r.commandId === id && r.status !== 'accepted') {
        showReply(p.li, p.label, r);
        pendingCommands.delete(id);
        return;
      }
    }
  });
}

// --- sessions ---------------------------------------------------------------------------------------------

/** @type {[field: string, label: string][]} */
const statDefs = [
  ['capital', 'capital'],
  ['equity', 'equity at bid/ask'],
  ['pnl', 'PnL'],
  ['unrealized', 'unrealized (bid/ask)'],
  ['realized', 'realized'],
  ['fees', 'fees'],
  ['funding', 'funding'],
  ['exposure', 'gross exposure (bid/ask)'],
  ['stoploss', 'stop-loss'],
  ['horizon', 'horizon'],
  ['asof', 'as of'],
];

/**
 * Builds a session's card (once; later polls update it in place) and wires its buttons.
 * @param {string} userId
 * @returns {Card}
 */
function createCard(userId) {
  const stats = el(
    'div',
    { className: 'stats' },
    statDefs.map(([field, label]) =>
      el('div', { className: 'stat' }, [el('div', { className: 'k', text: label }), el('div', { className: 'v', 'data-field': field })]),
    ),
  );
  const posHeads = ['symbol', 'side', 'qty', 'entry', 'exit (bid/ask)', 'notional (bid/ask)', 'unrealized'];
  const posTable = el('table', { 'data-table': 'positions' }, [
    el('thead', null, [
      el(
        'tr',
        null,
        posHeads.map((h, i) => el('th', { text: h, className: i > 1 ? 'num' : '' })),
      ),
    ]),
    el('tbody'),
  ]);
  const ordHeads = ['symbol', 'side', 'qty', 'price', 'status', 'purpose', 'client id'];
  const ordTable = el('table', { 'data-table': 'orders' }, [
    el('thead', null, [
      el(
        'tr',
        null,
        ordHeads.map((h) => el('th', { text: h })),
      ),
    ]),
    el('tbody'),
  ]);
  const chartBox = el('div', { className: 'chart', 'data-chart': userId });
  const slInput = el('input', { type: 'number', min: '0.1', max: '99', step: '0.1', placeholder: 'pct', 'data-input': 'stoploss' });
  const stopBtn = el('button', { className: 'danger', 'data-action': 'stop', text: 'Stop' });
  const pauseBtn = el('button', { 'data-action': 'pause', text: 'Pause' });
  const refreshBtn = el('button', { 'data-action': 'status', text: 'Refresh' });
  const slBtn = el('button', { 'data-action': 'set_stoploss', text: 'Set stop-loss %' });
  const card = el('div', { className: 'card', 'data-user': userId }, [
    el('div', { className: 'card-head' }, [
      el('h3', { text: userId }),
      el('span', { className: 'badge', 'data-field': 'mode' }),
      el('span', { className: 'badge', 'data-field': 'status' }),
      el('span', { className: 'badge', 'data-field': 'paused' }),
      el('span', { className: 'badge danger', 'data-field': 'killswitch' }),
    ]),
    stats,
    el('div', { className: 'grid2' }, [
      el('div', null, [
        el('div', { className: 'muted', text: 'Positions, valued where they could be closed now (longs at the bid, shorts at the ask)' }),
        posTable,
        el('div', { className: 'muted', 'data-field': 'unpriced' }),
        el('div', { className: 'muted', text: 'Open orders', style: 'margin-top:8px' }),
        ordTable,
      ]),
      el('div', null, [el('div', { className: 'muted', text: 'Equity at bid/ask' }), chartBox]),
    ]),
    el('div', { className: 'controls' }, [stopBtn, pauseBtn, refreshBtn, slInput, slBtn]),
  ]);
  stopBtn.addEventListener('click', () => {
    if (!confirm(`Stop the session of ${userId}? Open orders are cancelled and positions flattened.`)) return;
    void send({ action: 'stop', userId }, `stop ${userId}`);
  });
  pauseBtn.addEventListener('click', () => {
    // renderSession keeps data-action on what the button does now.
    const action = pauseBtn.getAttribute('data-action') === 'resume' ? 'resume' : 'pause';
    void send({ action, userId }, `${action} ${userId}`);
  });
  refreshBtn.addEventListener('click', () => void send({ action: 'status', userId }, `status ${userId}`));
  slBtn.addEventListener('click', () => {
    const pct = Number(slInput.value);
    if (!slInput.value || !isFinite(pct)) {
      const li = logCommand(`set_stoploss ${userId}`);
      li.setAttribute('data-status', 'error');
      li.textContent = `set_stoploss ${userId}: enter a percentage`;
      return;
    }
    void send({ action: 'set_stoploss', userId, pct }, `set_stoploss ${pct}% ${userId}`);
  });
  page.sessions.appendChild(card);
  /** @type {Card} */
  const entry = { card, chart: null, chartBox, pauseBtn, stopBtn, lastPoints: -1, lastX: null };
  cards.set(userId, entry);
  return entry;
}

/**
 * Draws the equity curve, or feeds the existing chart new data; nothing when the points did not change.
 * @param {Card} entry
 * @param {SessionState['equity']} points [time ms, equity USD], oldest first
 */
function updateChart(entry, points) {
  if (typeof uPlot === 'undefined') return; // its script failed to load: the rest of the page still works
  const last = points[points.length - 1];
  const lastX = last ? last[0] : null;
  if (entry.chart && points.length === entry.lastPoints && lastX === entry.lastX) return;
  entry.lastPoints = points.length;
  entry.lastX = lastX;
  /** @type {[number[], number[]]} */
  const data = [points.map((p) => p[0] / 1000), points.map((p) => p[1])];
  const width = Math.max(280, entry.chartBox.clientWidth || 400);
  if (!entry.chart) {
    entry.chart = new uPlot(
      {
        width,
        height: 160,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        series: [{}, { label: 'equity', stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.08)', points: { show: points.length < 40, size: 5 } }],
        axes: [
          {},
          {
            size: 80,
            values: (_u, vals) => {
              const step = vals.length > 1 ? Math.abs((vals[1] ?? 0) - (vals[0] ?? 0)) : 1;
              const d = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
              return vals.map((v) => `$${num(v, d)}`);
            },
          },
        ],
      },
      data,
      entry.chartBox,
    );
  } else {
    entry.chart.setData(data);
  }
}

/**
 * @param {SessionState} s
 * @param {number} now the server's clock, ms
 */
function renderSession(s, now) {
  const entry = cards.get(s.userId) ?? createCard(s.userId);
  const m = s.summary;
  const card = entry.card;
  card.className = `card ${m.status}`;
  /** @type {(name: string, text: string, cls?: string) => void} */
  const f = (name, text, cls) => setField(card, name, text, cls);
  /** @type {(name: string, text: string, cls: string) => void} */
  const badge = (name, text, cls) => {
    const b = required(`[data-field="${name}"]`, HTMLElement, card);
    b.textContent = text;
    b.className = `badge ${cls}`;
    b.style.display = text ? '' : 'none';
  };
  badge('mode', m.mode, m.mode === 'live' ? 'live' : '');
  badge('status', m.status, m.status);
  badge('paused', m.paused ? 'paused' : '', 'stopping');
  badge('killswitch', m.killSwitch.engaged ? `kill switch: ${m.killSwitch.reason || 'engaged'}` : '', 'danger');
  const pnl = m.equityUsd - m.capitalUsd;
  f('capital', usd(m.capitalUsd));
  f('equity', usd(m.equityUsd));
  f('pnl', `${signedUsd(pnl)} (${num((100 * pnl) / m.capitalUsd, 2)}%)`, signClass(pnl));
  f('unrealized', signedUsd(m.unrealizedPnlUsd), signClass(m.unrealizedPnlUsd));
  f('realized', signedUsd(m.realizedPnlUsd), signClass(m.realizedPnlUsd));
  f('fees', signedUsd(-(m.feesUsd ?? 0)), signClass(-(m.feesUsd ?? 0)));
  f('funding', signedUsd(m.fundingUsd ?? 0), signClass(m.fundingUsd ?? 0));
  f('exposure', usd(m.grossExposureUsd));
  f('stoploss', m.stopLossPct === null ? 'none' : `${m.stopLossPct}%`);
  f('horizon', m.horizonDeadline === null ? 'none' : `${m.horizonDeadline.replace('T', ' ').slice(0, 16)}Z`);
  f('asof', `${ago(s.summaryAtMs, now)} (${s.source})`, 'small');
  f('unpriced', m.unpricedSymbols.length ? `no quote for ${m.unpricedSymbols.join(', ')} (not in equity)` : '');
  const posRows = Object.entries(m.positions)
    .filter(([, p]) => p.qty !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sym, p]) =>
      el('tr', { 'data-symbol': sym }, [
        td(sym),
        td(p.qty > 0 ? 'long' : 'short', p.qty > 0 ? 'pos' : 'neg'),
        td(num(Math.abs(p.qty), 6), 'num'),
        td(num(p.entryPrice, 2), 'num'),
        td(typeof p.exitPrice === 'number' ? num(p.exitPrice, 2) : 'no quote', 'num'),
        td(typeof p.notionalUsd === 'number' ? usd(p.notionalUsd) : '?', 'num'),
        td(typeof p.unrealizedPnlUsd === 'number' ? signedUsd(p.unrealizedPnlUsd) : '?', `num ${signClass(p.unrealizedPnlUsd)}`),
      ]),
    );
  fillRows(required('[data-table=positions] tbody', HTMLTableSectionElement, card), posRows, 'flat', 7);
  const ordRows = m.openOrders.map((o) =>
    el('tr', null, [
      td(o.symbol),
      td(o.side),
      td(String(o.quantity), 'num'),
      td(o.price === null || o.price === undefined ? 'market' : String(o.price), 'num'),
      td(o.status),
      td(o.purpose),
      td(o.clientOrderId, 'mono'),
    ]),
  );
  fillRows(required('[data-table=orders] tbody', HTMLTableSectionElement, card), ordRows, 'none', 7);
  const closed = m.status === 'closed';
  entry.stopBtn.disabled = m.status !== 'active';
  entry.pauseBtn.setAttribute('data-action', m.paused ? 'resume' : 'pause');
  entry.pauseBtn.textContent = m.paused ? 'Resume' : 'Pause';
  // A closed session takes no command but status (Refresh); Stop follows the status itself, above.
  card.querySelectorAll('.controls button, .controls input').forEach((b) => {
    if ((b instanceof HTMLButtonElement || b instanceof HTMLInputElement) && b !== entry.stopBtn && b.getAttribute('data-action') !== 'status')
      b.disabled = closed;
  });
  updateChart(entry, s.equity);
}

// --- the whole page ---------------------------------------------------------------------------------------

/** @param {StateResponse} st */
function renderState(st) {
  const now = st.nowMs || Date.now();
  page.haltedBanner.style.display = st.halted ? 'block' : 'none';
  page.sessionsEmpty.style.display = st.sessions.length ? 'none' : '';
  for (const s of st.sessions) renderSession(s, now);
  fillRows(
    page.alertRows,
    st.alerts
      .slice()
      .reverse()
      .map((a) => el('tr', null, [td(time(a.atMs)), td(a.userId), td(a.kind), td(a.message)])),
    'no alerts',
    4,
  );
  fillRows(
    page.replyRows,
    st.replies
      .slice()
      .reverse()
      .slice(0, 50)
      .map((r) => el('tr', null, [td(time(r.atMs)), td(r.commandType || '?'), td(r.userId || '?'), td(r.status), td(r.reason || ''), td(r.commandId, 'mono')])),
    'no replies yet',
    6,
  );
  followPending(st.replies);
  const fs = st.follower;
  page.conn.textContent = `${fs.caughtUp ? 'live' : 'catching up'} · ${st.foldedEvents} events${fs.lastError ? ` · read error: ${fs.lastError}` : ''} · updated ${new Date().toLocaleTimeString()}`;
}

/** @param {DlqResponse} d */
function renderDlq(d) {
  page.dlqDepth.textContent = String(d.depth);
  fillRows(
    page.dlqRows,
    d.entries
      .slice()
      .reverse()
      .map((x) =>
        el('tr', null, [
          td(x.id, 'mono'),
          td(x.reason),
          td(x.raw.length > 200 ? `${x.raw.slice(0, 200)}…` : x.raw, 'mono'),
          td(String(x.rawBytes), 'num'),
          td(x.rawSha256.slice(0, 16), 'mono'),
        ]),
      ),
    'empty',
    5,
  );
}

/** The poll in flight: a command's poll joins it rather than starting a second one. */
/** @type {Promise<void> | null} */
let polling = null;
function poll() {
  if (polling) return polling;
  polling = api('/api/state')
    .then((res) => {
      if (res.status !== 200) {
        page.conn.textContent = `state: HTTP ${res.status} ${errorOf(res.body)}`;
        return;
      }
      renderState(/** @type {StateResponse} */ (res.body));
      if (polls++ % dlqEveryPolls === 0) {
        return api('/api/dlq').then((d) => {
          if (d.status === 200) renderDlq(/** @type {DlqResponse} */ (d.body));
        });
      }
    })
    .catch((/** @type {unknown} */ err) => {
      page.conn.textContent = `offline: ${String(err)}`;
    })
    .then(() => {
      polling = null;
    });
  return polling;
}

page.haltAll.addEventListener('click', () => {
  const reason = prompt('Halt ALL trading (every session is flattened)? Reason:', 'operator halt from dashboard');
  if (reason === null) return;
  void send(reason ? { action: 'halt_all', reason: reason.slice(0, 200) } : { action: 'halt_all' }, 'halt_all');
});
page.resumeAll.addEventListener('click', () => void send({ action: 'resume_all' }, 'resume_all'));
void poll();
setInterval(() => void poll(), pollMs);
