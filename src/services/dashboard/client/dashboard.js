// @ts-check
// The dashboard page's behaviour, run in the browser as an ES module (served as is at /assets/dashboard.js: no
// build step). tsc checks it through the JSDoc types below, against the DOM library and the server's own types
// for the JSON it reads (../api-types.ts), so a change of shape on the server fails the typecheck here.
//
// It follows /api/events (server-sent events): a `snapshot` of the whole state, then `changes` (new equity
// points, session changes, alerts, replies, fills booked) that it applies to its own copy; it reads /api/dlq every
// few seconds, and one user's closed trades from /api/closed when the user is picked, a page is turned, or a fill of
// theirs was booked; it updates the DOM in place (inputs keep their focus and charts keep their canvas) and POSTs
// actions to /api/commands. Everything from the engine is put into the DOM with textContent, never as HTML.
// Every time is shown one way: `2026-12-02 01:44 UTC`.

/** @typedef {import('../api-types.js').StateResponse} StateResponse */
/** @typedef {import('../api-types.js').ChangesMessage} ChangesMessage */
/** @typedef {import('../api-types.js').ModelChange} ModelChange */
/** @typedef {import('../api-types.js').DlqResponse} DlqResponse */
/** @typedef {import('../api-types.js').ClusterResponse} ClusterResponse */
/** @typedef {import('../api-types.js').CommandResponse} CommandResponse */
/** @typedef {import('../api-types.js').ClosedResponse} ClosedResponse */
/** @typedef {import('../api-types.js').DashboardCommand} DashboardCommand */
/** @typedef {Omit<StateResponse['sessions'][number], 'equity'>} SessionHead */
/** @typedef {SessionHead['summary']} Summary */
/** @typedef {StateResponse['replies'][number]} Reply */
/** @typedef {StateResponse['alerts'][number]} Alert */
/** @typedef {import('uplot')} UPlot */

/**
 * One session as the page knows it: the last head from the server and its equity curve (appended to).
 * @typedef {object} SessionState
 * @property {SessionHead} head
 * @property {number[]} xs equity point times, s (uPlot's unit)
 * @property {number[]} ys equity at bid/ask, USD
 */

/**
 * What is kept of one session's card to update it in place.
 * @typedef {object} Card
 * @property {HTMLDivElement} card
 * @property {UPlot | null} chart
 * @property {HTMLDivElement} chartBox
 * @property {HTMLDivElement} tip
 * @property {HTMLButtonElement} pauseBtn
 * @property {HTMLButtonElement} stopBtn
 * @property {HTMLButtonElement} slBtn
 * @property {HTMLInputElement} slInput
 * @property {HTMLButtonElement} newBtn
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
 * @param {string} name the attribute's dataset name (data-dlq-poll-ms → dlqPollMs)
 */
function bodySetting(name) {
  const value = Number(document.body.dataset[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`dashboard: <body> has no valid data attribute for ${name}`);
  return value;
}

const dlqPollMs = bodySetting('dlqPollMs');
const rowsPerPage = bodySetting('rowsPerPage');
const maxPoints = bodySetting('maxPoints');
const maxAlerts = bodySetting('maxAlerts');
const maxReplies = bodySetting('maxReplies');
const liveStartAllowed = document.body.dataset.liveStart === '1';
// The page was opened with ?token= when the dashboard has one; every fetch carries it as a header, the event
// stream (EventSource cannot send headers) as the query parameter.
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
  closedSection: required('#closed-section', HTMLElement),
  closedUser: required('#closed-user', HTMLSelectElement),
  closedSummary: required('#closed-summary', HTMLElement),
  closedRows: required('#closed tbody', HTMLTableSectionElement),
  performanceRows: required('#performance tbody', HTMLTableSectionElement),
  dailyBars: required('#daily-bars', HTMLElement),
  replyRows: required('#replies tbody', HTMLTableSectionElement),
  dlqDepth: required('#dlq-depth', HTMLElement),
  clusterCard: required('#cluster-card', HTMLElement),
  clusterRows: required('#cluster tbody', HTMLTableSectionElement),
  dlqRows: required('#dlq tbody', HTMLTableSectionElement),
  haltAll: required('#halt-all', HTMLButtonElement),
  resumeAll: required('#resume-all', HTMLButtonElement),
  startForm: required('#start-form', HTMLFormElement),
  startError: required('#start-error', HTMLElement),
};

/** The page's copy of the server's read model, kept by applying the event stream. */
const model = {
  /** @type {Map<string, SessionState>} */
  sessions: new Map(),
  /** @type {Alert[]} oldest first, at most maxAlerts */
  alerts: [],
  /** @type {Reply[]} oldest first, at most maxReplies */
  replies: [],
  /** @type {boolean | null} */
  halted: null,
  foldedEvents: 0,
  /** @type {StateResponse['follower'] | null} */
  follower: null,
  /** server clock − browser clock, ms (ages are shown against the server's clock) */
  clockOffsetMs: 0,
};

/** @type {Map<string, Card>} */
const cards = new Map();
/** Commands accepted but not finished: their log line is updated when a later reply (done/rejected) shows up. */
/** @type {Map<string, { li: HTMLLIElement, label: string }>} */
const pendingCommands = new Map();

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
/**
 * A price as the CLI shows it (src/services/cli/format.ts): 6 significant digits. A closed trade's entry and exit are
 * averages of its fills, exact in the ledger and finer than any tick ("149.946666666667"); a price on the tick has
 * fewer digits and shows unchanged.
 * @param {string} text an exact decimal
 */
function priceText(text) {
  const n = Number(text);
  if (!isFinite(n)) return text;
  if (n === 0) return '0';
  const rounded = Number(n.toPrecision(6));
  return Math.abs(rounded) >= 1e-6 ? String(rounded) : rounded.toFixed(12).replace(/0+$/, '');
}
/**
 * An exact decimal as written, its whole part grouped by thousands: `60018.6` → `60,018.6`, `0.008412` unchanged.
 * @param {string} text
 */
function groupedDecimal(text) {
  const [whole = '', fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}
/** @param {number} n */
function usd(n) {
  // The sign of what is shown: a loss under half a cent is "$0.00", not "-$0.00".
  const cents = Math.round(n * 100);
  return (cents < 0 ? '-$' : '$') + num(Math.abs(cents) / 100, 2);
}
/** @param {number} n */
function signedUsd(n) {
  return (Math.round(n * 100) > 0 ? '+' : '') + usd(n);
}
/**
 * The page's one time format: `2026-12-02 01:44 UTC`.
 * @param {number} ms
 */
function utc(ms) {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
/** @param {number} ms a duration */
function span(ms) {
  const min = Math.round(Math.abs(ms) / 60_000);
  if (min < 1) return `${Math.round(Math.abs(ms) / 1000)} s`;
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return h < 48 ? `${h} h ${min % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}
function serverNow() {
  return Date.now() + model.clockOffsetMs;
}
/** @param {number | null | undefined} n */
function signClass(n) {
  // By the cents shown (usd): "$0.00" is never red.
  return typeof n === 'number' ? (Math.round(n * 100) >= 0 ? 'pos' : 'neg') : '';
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
  if (cls !== undefined) f.className = cls;
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
 * @template T
 * @param {T[]} list
 * @param {T} item
 * @param {number} max
 */
function pushBounded(list, item, max) {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
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

// --- paged tables -----------------------------------------------------------------------------------------

/**
 * A table shown `rowsPerPage` rows at a time, newest first, with Newer/Older buttons under it.
 * @template T
 * @param {string} name the `data-pager` of its pager element
 * @param {HTMLTableSectionElement} tbody
 * @param {number} cols
 * @param {string} emptyText
 * @param {(item: T) => HTMLTableRowElement} row
 */
function pagedTable(name, tbody, cols, emptyText, row) {
  const pager = required(`[data-pager="${name}"]`, HTMLElement);
  const newer = el('button', { type: 'button', 'data-page': 'newer', text: '‹ Newer' });
  const older = el('button', { type: 'button', 'data-page': 'older', text: 'Older ›' });
  const info = el('span', { className: 'muted', 'data-field': 'page-info' });
  pager.append(newer, info, older);
  let pageIndex = 0;
  /** @type {T[]} newest first */
  let items = [];
  const draw = () => {
    const pages = Math.max(1, Math.ceil(items.length / rowsPerPage));
    pageIndex = Math.min(pageIndex, pages - 1);
    const from = pageIndex * rowsPerPage;
    const shown = items.slice(from, from + rowsPerPage);
    fillRows(tbody, shown.map(row), emptyText, cols);
    info.textContent = items.length ? `${from + 1}–${from + shown.length} of ${items.length}` : '';
    newer.disabled = pageIndex === 0;
    older.disabled = pageIndex >= pages - 1;
  };
  newer.addEventListener('click', () => {
    pageIndex = Math.max(0, pageIndex - 1);
    draw();
  });
  older.addEventListener('click', () => {
    pageIndex += 1;
    draw();
  });
  return {
    /** @param {T[]} newestFirst */
    show(newestFirst) {
      items = newestFirst;
      draw();
    },
    /** Back to the newest page (a filter changed). */
    first() {
      pageIndex = 0;
    },
  };
}

/** @type {ReturnType<typeof pagedTable<Alert>>} */
const alertsTable = pagedTable('alerts', page.alertRows, 4, 'none', (a) =>
  el('tr', { 'data-kind': a.kind }, [td(utc(a.atMs), 'time'), td(a.userId), td(a.kind), td(a.message, 'msg')]),
);
/** The engine's command types in the page's words (the buttons' and the start form's), not its internal names. */
/** @type {Record<string, string>} */
const commandWords = {
  'session.start': 'start session',
  'session.stop': 'stop session',
  'session.pause': 'pause',
  'session.resume': 'resume',
  'session.set_stoploss': 'set stop-loss',
  'session.set_horizon': 'set horizon',
  'session.exit': 'exit symbol',
  status: 'status',
  trades: 'trades',
  'signals.route': 'signals',
  'admin.halt_all': 'halt all',
  'admin.resume_all': 'resume all',
  'admin.users': 'users',
  'admin.approve_live': 'approve live',
};
/** @param {string | null} commandType */
const commandWord = (commandType) => (commandType === null ? 'unreadable command' : (commandWords[commandType] ?? commandType));

/** @type {ReturnType<typeof pagedTable<Reply>>} */
const repliesTable = pagedTable('replies', page.replyRows, 6, 'no replies yet', (r) =>
  el('tr', null, [
    td(utc(r.atMs), 'time'),
    td(commandWord(r.commandType)),
    td(r.userId || '?'),
    td(r.status),
    td(r.reason || '', 'msg'),
    td(r.commandId, 'mono'),
  ]),
);
/** @type {ReturnType<typeof pagedTable<DlqResponse['entries'][number]>>} */
const dlqTable = pagedTable('dlq', page.dlqRows, 5, 'empty', (x) =>
  el('tr', null, [
    td(x.id, 'mono'),
    td(x.reason, 'msg'),
    td(x.raw.length > 200 ? `${x.raw.slice(0, 200)}…` : x.raw, 'mono'),
    td(String(x.rawBytes), 'num'),
    td(x.rawSha256.slice(0, 16), 'mono'),
  ]),
);

function drawAlerts() {
  alertsTable.show(model.alerts.slice().reverse());
}

// --- closed trades ----------------------------------------------------------------------------------------

/** After a fill of the user shown, the closed trades are read again once this long has passed (fills come in bursts). */
const closedRefreshDelayMs = 2_000;
/** Alerts that mean the user's closed trades may have changed (the exchange traded on the account). */
const tradeAlertKinds = new Set(['exchange_close', 'manual_trade']);

const closedView = {
  /** The user shown ('' before any session is known). */
  userId: '',
  /** Trades back from the newest, of the page shown. */
  offset: 0,
  /** @type {ReturnType<typeof setTimeout> | null} */
  refresh: null,
  /** Answers to older requests are dropped: only the latest is drawn. */
  requestSeq: 0,
};

const closedPager = (() => {
  const pager = required('[data-pager="closed"]', HTMLElement);
  const newer = el('button', { type: 'button', 'data-page': 'newer', text: '‹ Newer' });
  const older = el('button', { type: 'button', 'data-page': 'older', text: 'Older ›' });
  const info = el('span', { className: 'muted', 'data-field': 'page-info' });
  pager.append(newer, info, older);
  newer.addEventListener('click', () => void readClosed(Math.max(0, closedView.offset - rowsPerPage)));
  older.addEventListener('click', () => void readClosed(closedView.offset + rowsPerPage));
  return {
    /** @param {ClosedResponse | null} r */
    show(r) {
      const shown = r?.trades.length ?? 0;
      info.textContent = r && shown > 0 ? `${r.offset + 1}–${r.offset + shown} of ${r.total}` : '';
      newer.disabled = !r || r.offset === 0;
      older.disabled = !r || r.offset + shown >= r.total;
    },
  };
})();

/**
 * A decimal string from the server as dollars (display only: the amounts are exact on the server).
 * @param {string} amount
 */
function decimalUsd(amount) {
  return signedUsd(Number(amount));
}
/** @param {string} amount */
function decimalClass(amount) {
  return signClass(Number(amount));
}

/** The select lists every user with a session, and keeps the one picked (the first user until one is). */
function updateClosedUsers() {
  const users = [...model.sessions.keys()].sort((a, b) => a.localeCompare(b));
  const select = page.closedUser;
  const listed = [...select.options].map((o) => o.value);
  if (listed.join('\n') !== users.join('\n')) {
    select.textContent = '';
    for (const u of users) select.appendChild(el('option', { value: u, text: u }));
  }
  const keep = users.includes(closedView.userId) ? closedView.userId : (users[0] ?? '');
  if (select.value !== keep) select.value = keep;
  if (keep !== closedView.userId) {
    closedView.userId = keep;
    void readClosed(0);
  }
}
page.closedUser.addEventListener('change', () => {
  closedView.userId = page.closedUser.value;
  void readClosed(0);
});

/** Reads the closed trades again soon (a fill of the user shown was booked), once per burst. */
function scheduleClosedRefresh() {
  if (closedView.refresh !== null) return;
  closedView.refresh = setTimeout(() => {
    closedView.refresh = null;
    void readClosed(closedView.offset);
  }, closedRefreshDelayMs);
}

/** @param {number} offset trades back from the newest */
function readClosed(offset) {
  const userId = closedView.userId;
  const seq = ++closedView.requestSeq;
  if (userId === '') {
    drawClosed(null, 'no sessions yet');
    return Promise.resolve();
  }
  return api(`/api/closed?user=${encodeURIComponent(userId)}&offset=${offset}&limit=${rowsPerPage}`)
    .then((d) => {
      if (seq !== closedView.requestSeq) return;
      if (d.status !== 200) {
        const why = /** @type {{ error?: string }} */ (d.body).error;
        drawClosed(null, `closed trades could not be read: ${why ?? `HTTP ${d.status}`}`);
        return;
      }
      const r = /** @type {ClosedResponse} */ (d.body);
      closedView.offset = r.offset;
      drawClosed(r, '');
    })
    .catch(() => {
      if (seq === closedView.requestSeq) drawClosed(null, 'closed trades could not be read (connection)');
    });
}

/**
 * @param {ClosedResponse | null} r
 * @param {string} problem shown instead of the summary when there is no answer
 */
function drawClosed(r, problem) {
  page.closedSection.setAttribute('data-closed-user', r?.userId ?? '');
  closedPager.show(r);
  if (!r) {
    page.closedSummary.textContent = problem;
    fillRows(page.closedRows, [], '–', 7);
    fillRows(page.performanceRows, [], '–', 4);
    page.dailyBars.textContent = '';
    return;
  }
  const s = r.summary;
  const notes = [
    r.openTrades > 0 ? `${r.openTrades} open` : '',
    r.partial ? 'older history not read' : '',
    r.unreadable > 0 ? `${r.unreadable} unreadable` : '',
  ]
    .filter((n) => n !== '')
    .join(', ');
  page.closedSummary.textContent =
    s.closedTrades === 0
      ? `no closed trades yet${notes ? ` (${notes})` : ''}`
      : `${s.closedTrades} closed · won ${s.wins} · lost ${s.losses} · win rate ${num(s.winRatePct, 0)}% · net ${decimalUsd(s.netPnlUsd)} · fees ${usd(Number(s.feesUsd))} · max drawdown ${usd(Number(s.maxDrawdownUsd))}${notes ? ` · ${notes}` : ''}`;
  fillRows(
    page.closedRows,
    r.trades.map((t) =>
      el('tr', null, [
        td(utc(t.closedAtMs), 'time'),
        td(t.symbol),
        td(t.side, t.side === 'long' ? 'pos' : 'neg'),
        td(decimalUsd(t.netPnlUsd), `num ${decimalClass(t.netPnlUsd)}`),
        // Labelled for the phone layout, where the header is hidden (page.ts).
        el('td', { text: t.qty, className: 'num', 'data-label': 'qty' }),
        // The exact average stays a hover away (title).
        el('td', { text: priceText(t.avgEntryPrice), title: t.avgEntryPrice, className: 'num', 'data-label': 'entry' }),
        t.avgExitPrice === null
          ? el('td', { text: '–', className: 'num', 'data-label': 'exit' })
          : el('td', { text: priceText(t.avgExitPrice), title: t.avgExitPrice, className: 'num', 'data-label': 'exit' }),
      ]),
    ),
    'no closed trades yet',
    7,
  );
  fillRows(
    page.performanceRows,
    r.performance.map((p) =>
      el('tr', { 'data-symbol': p.symbol }, [
        td(p.symbol),
        td(String(p.trades), 'num'),
        td(String(p.wins), 'num'),
        td(decimalUsd(p.netPnlUsd), `num ${decimalClass(p.netPnlUsd)}`),
      ]),
    ),
    'none',
    4,
  );
  drawDailyBars(r.daily);
}

/**
 * One bar a UTC day, up for a gain and down for a loss, scaled to the largest day; each says its day, net and trades.
 * @param {ClosedResponse['daily']} days oldest first
 */
function drawDailyBars(days) {
  const largest = Math.max(0, ...days.map((d) => Math.abs(Number(d.netPnlUsd))));
  page.dailyBars.textContent = '';
  for (const d of days) {
    const net = Number(d.netPnlUsd);
    const label = `${d.day}: ${decimalUsd(d.netPnlUsd)} (${d.trades} trade${d.trades === 1 ? '' : 's'})`;
    const bar = el(
      'div',
      { className: `day ${net > 0 ? 'pos' : net < 0 ? 'neg' : ''}`, title: label, 'aria-label': label, 'data-day': d.day, 'data-net': d.netPnlUsd },
      [el('span')],
    );
    const fill = bar.firstElementChild;
    // Half the box each way; a day with any result shows at least a sliver.
    if (fill instanceof HTMLElement) fill.style.height = largest > 0 && net !== 0 ? `${Math.max(1, (Math.abs(net) / largest) * 50)}%` : '0';
    page.dailyBars.appendChild(bar);
  }
  setField(page.closedSection, 'first-day', days[0]?.day ?? '');
  setField(page.closedSection, 'last-day', days.at(-1)?.day ?? '');
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
  li.textContent = `${label}: ${reply.status}${reply.reason ? ` (${reply.reason})` : ''}${replyNotes(reply)}`;
}
/**
 * A start's notes (a capital below a symbol's smallest order: src/core/start-notes.ts), after its status.
 * @param {Reply} reply
 */
function replyNotes(reply) {
  const result = /** @type {{ notes?: unknown } | null} */ (reply.status === 'done' && typeof reply.result === 'object' ? reply.result : null);
  const notes = result !== null && Array.isArray(result.notes) ? result.notes.filter((n) => typeof n === 'string') : [];
  return notes.length > 0 ? ` — ${notes.join('; ')}` : '';
}
/**
 * Posts a command and shows its first answer in the command log; its effect arrives on the event stream.
 * @param {DashboardCommand} command
 * @param {string} label
 * @returns {Promise<Reply | string>} the first reply, or why there was none
 */
function send(command, label) {
  const li = logCommand(label);
  return api('/api/commands', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(command) })
    .then((res) => {
      const body = /** @type {CommandResponse | Record<string, never>} */ (res.body);
      if ('reply' in body) {
        showReply(li, label, body.reply);
        if (body.reply.status === 'accepted') {
          pendingCommands.set(body.commandId, { li, label });
          // The final reply may have come over the event stream before this answer did.
          model.replies.forEach(followPending);
        }
        return body.reply;
      }
      li.setAttribute('data-status', 'error');
      // Appended but not answered in time (504): the reply may still come and is followed like an accepted one.
      const error = ('error' in body && body.error) || `HTTP ${res.status}`;
      li.textContent = `${label}: ${error}`;
      if ('commandId' in body) {
        li.setAttribute('data-command-id', body.commandId);
        pendingCommands.set(body.commandId, { li, label });
        model.replies.forEach(followPending);
      }
      return error;
    })
    .catch((/** @type {unknown} */ err) => {
      li.setAttribute('data-status', 'error');
      li.textContent = `${label}: ${String(err)}`;
      return String(err);
    });
}
/** @param {Reply} reply a reply that just arrived */
function followPending(reply) {
  const p = pendingCommands.get(reply.commandId);
  if (!p || reply.status === 'accepted') return;
  showReply(p.li, p.label, reply);
  pendingCommands.delete(reply.commandId);
}

// --- what a session may do next -----------------------------------------------------------------------------

/**
 * The session's real state, the next step in words, and which actions are valid now (the engine's rules:
 * src/core/command-handlers.ts). A kill-switched session stays `active` in the engine but trades no more:
 * pausing or resuming it changes nothing, so only Stop (then a new session) is offered.
 * @param {Summary} m
 * @param {boolean | null} halted
 */
function sessionState(m, halted) {
  const none = { stop: false, pause: false, resume: false, stoploss: false, startNew: false };
  if (m.status === 'closed')
    return { label: 'closed', cls: 'closed', tone: '', next: 'Closed. Start a new session to trade again.', can: { ...none, startNew: true } };
  if (m.status === 'stopping')
    return {
      label: 'stopping',
      cls: 'stopping',
      tone: 'warn',
      next: 'Stopping: open orders are cancelled and positions flattened; it closes once flat.',
      can: none,
    };
  if (m.killSwitch.engaged) {
    const why = m.killSwitch.reason || 'engaged';
    return {
      label: `kill switch: ${why}`,
      cls: 'danger',
      tone: 'danger',
      next: `Kill switch (${why}): positions are flattened and no new entries are placed. Next: Stop to close this session, then start a new one.`,
      can: { ...none, stop: true },
    };
  }
  const haltNote = halted ? ' Trading is halted by an operator: no entries until Resume all.' : '';
  if (m.paused)
    return {
      label: 'paused',
      cls: 'paused',
      tone: 'warn',
      next: `Paused: no new entries; the stop-loss and horizon still apply. Resume to trade again.${haltNote}`,
      can: { ...none, stop: true, resume: true, stoploss: true },
    };
  return {
    label: 'active',
    cls: 'active',
    tone: halted ? 'danger' : '',
    next: `Trading. Pause holds new entries; Stop cancels orders, flattens and closes.${haltNote}`,
    can: { ...none, stop: true, pause: true, stoploss: true },
  };
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
  ['stoploss', 'stop-loss floor'],
  ['horizon', 'horizon'],
  ['asof', 'as of'],
];

/**
 * A table with a header row, in a box that scrolls sideways on its own (the page never does).
 * @param {string} name
 * @param {string[]} heads
 * @param {number} firstNum columns from this index on are numbers
 */
function dataTable(name, heads, firstNum) {
  return el('div', { className: 'table-wrap' }, [
    el('table', { 'data-table': name }, [
      el('thead', null, [
        el(
          'tr',
          null,
          heads.map((h, i) => el('th', { text: h, className: i >= firstNum ? 'num' : '' })),
        ),
      ]),
      el('tbody'),
    ]),
  ]);
}

/**
 * Builds a session's card (once; later changes update it in place) and wires its buttons.
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
  const chartBox = el('div', { className: 'chart', 'data-chart': userId, 'data-points': '0' });
  const tip = el('div', { className: 'chart-tip' });
  chartBox.appendChild(tip);
  const slInput = el('input', {
    type: 'number',
    min: '0.1',
    max: '99',
    step: '0.1',
    placeholder: 'pct',
    'data-input': 'stoploss',
    'aria-label': 'stop-loss %',
  });
  const stopBtn = el('button', { className: 'danger', 'data-action': 'stop', text: 'Stop' });
  const pauseBtn = el('button', { 'data-action': 'pause', text: 'Pause' });
  const refreshBtn = el('button', { 'data-action': 'status', text: 'Refresh' });
  const slBtn = el('button', { 'data-action': 'set_stoploss', text: 'Set stop-loss %' });
  const newBtn = el('button', { 'data-action': 'start-new', text: 'New session…' });
  const card = el('div', { className: 'card', 'data-user': userId }, [
    el('div', { className: 'card-head' }, [
      el('h3', { text: userId }),
      el('span', { className: 'badge', 'data-field': 'mode' }),
      el('span', { className: 'badge', 'data-field': 'status' }),
    ]),
    el('p', { className: 'next-step', 'data-field': 'next' }),
    stats,
    el('div', { className: 'grid2' }, [
      el('div', null, [el('div', { className: 'muted', text: 'Equity at bid/ask, capital and stop-loss floor (UTC)' }), chartBox]),
      el('div', null, [
        el('div', { className: 'muted', text: 'Positions, valued where they could be closed now (longs at the bid, shorts at the ask)' }),
        // Unrealized PnL right after the size: on a phone the table scrolls sideways and this stays in view.
        dataTable('positions', ['symbol', 'side', 'qty', 'unrealized', 'entry', 'exit (bid/ask)', 'notional'], 2),
        el('div', { className: 'muted', 'data-field': 'unpriced' }),
        el('div', { className: 'muted', text: 'Open orders', style: 'margin-top:8px' }),
        dataTable('orders', ['symbol', 'side', 'qty', 'price', 'status', 'purpose', 'client id'], 99),
      ]),
    ]),
    el('div', { className: 'controls' }, [stopBtn, pauseBtn, refreshBtn, el('span', { className: 'group' }, [slInput, slBtn]), newBtn]),
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
    if (!slInput.value || !isFinite(pct) || pct <= 0 || pct >= 100) {
      const li = logCommand(`set_stoploss ${userId}`);
      li.setAttribute('data-status', 'error');
      li.textContent = `set_stoploss ${userId}: enter a percentage above 0 and below 100`;
      return;
    }
    void send({ action: 'set_stoploss', userId, pct }, `set_stoploss ${pct}% ${userId}`);
  });
  newBtn.addEventListener('click', () => {
    const s = model.sessions.get(userId);
    setStartField('userId', userId);
    if (s) setStartField('capitalUsd', String(s.head.summary.capitalUsd));
    page.startForm.scrollIntoView({ behavior: 'smooth', block: 'center' });
    startInput('capitalUsd').focus();
  });
  page.sessions.appendChild(card);
  /** @type {Card} */
  const entry = { card, chart: null, chartBox, tip, pauseBtn, stopBtn, slBtn, slInput, newBtn };
  cards.set(userId, entry);
  new ResizeObserver(() => {
    if (entry.chart) entry.chart.setSize({ width: chartWidth(entry), height: chartHeight });
  }).observe(chartBox);
  return entry;
}

const chartHeight = 170;
/** @param {Card} entry */
function chartWidth(entry) {
  return Math.max(200, Math.floor(entry.chartBox.clientWidth));
}
/** Tick spacings for the time axis, s: whole seconds and round minutes/hours, so no two ticks read the same. */
const timeIncrsS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];

/**
 * Time-axis tick labels in UTC (the axis says so): seconds only when the ticks are under a minute apart, the
 * date only when they are a day or more apart.
 * @param {number[]} splits seconds
 */
function axisTimes(splits) {
  const step = splits.length > 1 ? Math.abs((splits[1] ?? 0) - (splits[0] ?? 0)) : 60;
  const [from, to] = step < 60 ? [11, 19] : step < 86_400 ? [11, 16] : [5, 16];
  return splits.map((s) => new Date(s * 1000).toISOString().slice(from, to).replace('T', ' '));
}

/**
 * The equity curve with the capital line and the stop-loss floor as the engine reports it (the summary's
 * stopLossFloorUsd: the level its rule acts on, not one computed here; none from an engine that does not say), a legend that
 * shows the values under the cursor and a tooltip beside it; nothing drawn when uPlot did not load.
 * @param {Card} entry
 * @param {SessionState} s
 */
function updateChart(entry, s) {
  entry.chartBox.setAttribute('data-points', String(s.xs.length));
  if (typeof uPlot === 'undefined') return; // its script failed to load: the rest of the page still works
  const m = s.head.summary;
  const floor = m.stopLossFloorUsd ?? null;
  /** @type {import('uplot').AlignedData} */
  const data = [s.xs, s.ys, s.xs.map(() => m.capitalUsd), s.xs.map(() => floor)];
  if (entry.chart) {
    entry.chart.setData(data);
    showLatest(entry.chart);
    return;
  }
  /** @param {number | null | undefined} v */
  const money = (v) => (typeof v === 'number' ? usd(v) : '–');
  entry.chart = new uPlot(
    {
      width: chartWidth(entry),
      height: chartHeight,
      tzDate: (ts) => uPlot?.tzDate(new Date(ts * 1000), 'Etc/UTC') ?? new Date(ts * 1000),
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      series: [
        { label: 'time', value: (_u, v) => (v === null ? '–' : utc(v * 1000)) },
        { label: 'equity', stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.08)', value: (_u, v) => money(v) },
        { label: 'capital', stroke: '#64748b', width: 1, dash: [4, 4], points: { show: false }, value: (_u, v) => money(v) },
        { label: 'stop-loss floor', stroke: '#b91c1c', width: 1.5, dash: [8, 4], points: { show: false }, value: (_u, v) => money(v) },
      ],
      axes: [
        { label: 'time (UTC)', labelSize: 18, size: 30, incrs: timeIncrsS, values: (_u, splits) => axisTimes(splits) },
        {
          size: 70,
          values: (_u, vals) => {
            const step = vals.length > 1 ? Math.abs((vals[1] ?? 0) - (vals[0] ?? 0)) : 1;
            const d = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
            return vals.map((v) => `$${num(v, d)}`);
          },
        },
      ],
      hooks: { setCursor: [(u) => showTip(entry, u)] },
    },
    data,
    entry.chartBox,
  );
  showLatest(entry.chart);
}

/**
 * With the cursor off the chart, the legend shows the latest values instead of dashes.
 * @param {UPlot} u
 */
function showLatest(u) {
  if (u.cursor.idx !== null && u.cursor.idx !== undefined) return;
  const last = u.data[0].length - 1;
  if (last >= 0) u.setLegend({ idx: last }, false);
}

/**
 * @param {number} equity
 * @param {number} floor
 */
function floorDistance(equity, floor) {
  return distanceText(equity - floor);
}
/** @param {number} distance equity − floor */
function distanceText(distance) {
  return distance >= 0 ? `${usd(distance)} above floor` : `${usd(-distance)} below floor`;
}

/**
 * The tooltip at the cursor: the point's time and equity, and how far it is above the floor.
 * @param {Card} entry
 * @param {UPlot} u
 */
function showTip(entry, u) {
  const idx = u.cursor.idx;
  const left = u.cursor.left ?? -1;
  const x = idx === null || idx === undefined ? undefined : u.data[0][idx];
  const eq = idx === null || idx === undefined ? undefined : u.data[1]?.[idx];
  if (x === undefined || typeof eq !== 'number' || left < 0) {
    entry.tip.style.display = 'none';
    showLatest(u);
    return;
  }
  const floor = idx === null || idx === undefined ? null : u.data[3]?.[idx];
  entry.tip.textContent = `${utc(x * 1000)} · equity ${usd(eq)}${typeof floor === 'number' ? ` · ${floorDistance(eq, floor)}` : ''}`;
  entry.tip.style.display = 'block';
  const box = entry.chartBox.clientWidth;
  const tipWidth = entry.tip.offsetWidth;
  const at = u.over.offsetLeft + left + 12;
  entry.tip.style.left = `${Math.max(0, Math.min(at, box - tipWidth))}px`;
  entry.tip.style.top = `${u.over.offsetTop + 4}px`;
}

/**
 * @param {SessionState} s
 */
function renderSession(s) {
  const entry = cards.get(s.head.userId) ?? createCard(s.head.userId);
  const m = s.head.summary;
  const card = entry.card;
  const state = sessionState(m, model.halted);
  card.className = `card ${m.status}`;
  /** @type {(name: string, text: string, cls?: string) => void} */
  const f = (name, text, cls) => setField(card, name, text, cls === undefined ? undefined : `v ${cls}`);
  setField(card, 'mode', m.mode, `badge ${m.mode === 'live' ? 'live' : ''}`);
  setField(card, 'status', state.label, `badge ${state.cls}`);
  setField(card, 'next', state.next, `next-step ${state.tone}`);
  const pnl = m.equityUsd - m.capitalUsd;
  f('capital', usd(m.capitalUsd));
  f('equity', usd(m.equityUsd));
  f('pnl', `${signedUsd(pnl)} (${num((100 * pnl) / m.capitalUsd, 2)}%)`, signClass(pnl));
  f('unrealized', signedUsd(m.unrealizedPnlUsd), signClass(m.unrealizedPnlUsd));
  f('realized', signedUsd(m.realizedPnlUsd), signClass(m.realizedPnlUsd));
  f('fees', signedUsd(-(m.feesUsd ?? 0)), signClass(-(m.feesUsd ?? 0)));
  f('funding', signedUsd(m.fundingUsd ?? 0), signClass(m.fundingUsd ?? 0));
  f('exposure', usd(m.grossExposureUsd));
  // The floor and the distance to it as the engine computed them (exactly, at bid/ask). A closed session shows what it
  // was set to: the equity "above floor" (and a horizon "in 1 h 57 min", renderTimes) read as if it still traded.
  if (m.stopLossPct === null) f('stoploss', 'none');
  else if (m.status === 'closed') f('stoploss', `${m.stopLossPct}%`);
  else if (typeof m.stopLossFloorUsd !== 'number') f('stoploss', `${m.stopLossPct}% (this engine does not report its floor)`);
  else {
    const distance = typeof m.stopLossDistanceUsd === 'number' ? `, ${distanceText(m.stopLossDistanceUsd)}` : '';
    f('stoploss', `${usd(m.stopLossFloorUsd)} (${m.stopLossPct}%)${distance}`);
  }
  renderTimes(s);
  f('unpriced', m.unpricedSymbols.length ? `no quote for ${m.unpricedSymbols.join(', ')} (not in equity)` : '');
  const posRows = Object.entries(m.positions)
    .filter(([, p]) => p.qty !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sym, p]) =>
      el('tr', { 'data-symbol': sym }, [
        td(sym),
        td(p.qty > 0 ? 'long' : 'short', p.qty > 0 ? 'pos' : 'neg'),
        // The engine's exact figures where it gives them (the CLI shows the same): the quantity on its step, the entry on
        // the tick, the mark as quoted. Fixed decimals read a coin below a cent as 0.00. Numbers from an older engine.
        td(typeof p.qtyExact === 'string' ? groupedDecimal(p.qtyExact.replace(/^-/, '')) : num(Math.abs(p.qty), 6), 'num'),
        td(typeof p.unrealizedPnlUsd === 'number' ? signedUsd(p.unrealizedPnlUsd) : '?', `num ${signClass(p.unrealizedPnlUsd)}`),
        td(typeof p.entryAtTick === 'string' ? groupedDecimal(p.entryAtTick) : num(p.entryPrice, 2), 'num'),
        td(typeof p.mark === 'string' ? groupedDecimal(p.mark) : typeof p.exitPrice === 'number' ? num(p.exitPrice, 2) : 'no quote', 'num'),
        td(typeof p.notionalUsd === 'number' ? usd(p.notionalUsd) : '?', 'num'),
      ]),
    );
  fillRows(required('[data-table=positions] tbody', HTMLTableSectionElement, card), posRows, 'flat', 7);
  const ordRows = m.openOrders.map((o) =>
    el('tr', null, [
      td(o.symbol),
      td(o.side),
      td(String(o.quantity)),
      td(o.price === null || o.price === undefined ? 'market' : String(o.price)),
      td(o.status),
      td(o.purpose),
      td(o.clientOrderId, 'mono'),
    ]),
  );
  fillRows(required('[data-table=orders] tbody', HTMLTableSectionElement, card), ordRows, 'none', 7);
  // Only what the engine would act on is enabled; Refresh (status) is always valid.
  entry.stopBtn.disabled = !state.can.stop;
  entry.pauseBtn.setAttribute('data-action', state.can.resume ? 'resume' : 'pause');
  entry.pauseBtn.textContent = state.can.resume ? 'Resume' : 'Pause';
  entry.pauseBtn.disabled = !(state.can.pause || state.can.resume);
  entry.slBtn.disabled = !state.can.stoploss;
  entry.slInput.disabled = !state.can.stoploss;
  entry.newBtn.style.display = state.can.startNew ? '' : 'none';
  updateChart(entry, s);
}

/**
 * The fields that move with the clock: as of (age) and the time left to the horizon.
 * @param {SessionState} s
 */
function renderTimes(s) {
  const card = cards.get(s.head.userId)?.card;
  if (!card) return;
  const now = serverNow();
  const m = s.head.summary;
  setField(card, 'asof', `${utc(s.head.summaryAtMs)}, ${span(now - s.head.summaryAtMs)} ago (${s.head.source})`, 'v small');
  if (m.horizonDeadline === null) setField(card, 'horizon', 'none', 'v');
  else {
    const at = Date.parse(m.horizonDeadline);
    const left = m.status === 'closed' ? '' : ` (${at > now ? `in ${span(at - now)}` : 'passed'})`;
    setField(card, 'horizon', `${utc(at)}${left}`, 'v');
  }
}

// --- applying the event stream ----------------------------------------------------------------------------

/** @param {StateResponse} st */
function applySnapshot(st) {
  model.clockOffsetMs = st.nowMs - Date.now();
  model.halted = st.halted;
  model.foldedEvents = st.foldedEvents;
  model.follower = st.follower;
  model.alerts = st.alerts.slice(-maxAlerts);
  model.replies = st.replies.slice(-maxReplies);
  const seen = new Set();
  for (const s of st.sessions) {
    seen.add(s.userId);
    const { equity, ...head } = s;
    const state = { head, xs: equity.map((p) => p[0] / 1000), ys: equity.map((p) => p[1]) };
    model.sessions.set(s.userId, state);
  }
  for (const userId of [...model.sessions.keys()]) if (!seen.has(userId)) forget(userId);
  for (const r of model.replies) followPending(r);
  renderAll();
}

/** @param {string} userId */
function forget(userId) {
  model.sessions.delete(userId);
  const entry = cards.get(userId);
  entry?.chart?.destroy();
  entry?.card.remove();
  cards.delete(userId);
}

/**
 * Applies one batch of changes; redraws only the sessions and tables they touched.
 * @param {ChangesMessage} msg
 */
function applyChanges(msg) {
  model.foldedEvents = msg.foldedEvents;
  model.follower = msg.follower;
  /** @type {Set<string>} */
  const dirty = new Set();
  let alerts = false;
  let replies = false;
  let halted = false;
  let users = false;
  for (const c of msg.changes) {
    switch (c.kind) {
      case 'session': {
        const known = model.sessions.get(c.session.userId);
        if (known && !c.resetEquity) known.head = c.session;
        else model.sessions.set(c.session.userId, { head: c.session, xs: [], ys: [] });
        dirty.add(c.session.userId);
        if (!known) users = true;
        break;
      }
      case 'equity': {
        const s = model.sessions.get(c.userId);
        if (!s) break;
        const x = c.point[0] / 1000;
        const last = s.xs[s.xs.length - 1];
        if (last !== undefined && x < last) break;
        if (last === x) s.ys[s.ys.length - 1] = c.point[1];
        else {
          pushBounded(s.xs, x, maxPoints);
          pushBounded(s.ys, c.point[1], maxPoints);
        }
        dirty.add(c.userId);
        break;
      }
      case 'session_forgotten':
        forget(c.userId);
        dirty.delete(c.userId);
        users = true;
        break;
      case 'alert':
        pushBounded(model.alerts, c.alert, maxAlerts);
        alerts = true;
        if (c.alert.userId === closedView.userId && tradeAlertKinds.has(c.alert.kind)) scheduleClosedRefresh();
        break;
      case 'fill':
        if (c.userId === closedView.userId) scheduleClosedRefresh();
        break;
      case 'reply':
        pushBounded(model.replies, c.reply, maxReplies);
        followPending(c.reply);
        replies = true;
        break;
      case 'halted':
        model.halted = c.halted;
        halted = true;
        break;
    }
  }
  if (halted) renderAll();
  else {
    for (const userId of dirty) {
      const s = model.sessions.get(userId);
      if (s) renderSession(s);
    }
    if (alerts) drawAlerts();
    if (replies) repliesTable.show(model.replies.slice().reverse());
    if (users) updateClosedUsers();
  }
  renderConn();
}

function renderAll() {
  page.haltedBanner.style.display = model.halted ? 'block' : 'none';
  page.haltAll.disabled = model.halted === true;
  page.resumeAll.disabled = model.halted === false;
  page.sessionsEmpty.style.display = model.sessions.size ? 'none' : '';
  [...model.sessions.values()].sort((a, b) => a.head.userId.localeCompare(b.head.userId)).forEach(renderSession);
  drawAlerts();
  repliesTable.show(model.replies.slice().reverse());
  updateClosedUsers();
  renderConn();
}

/** @type {number | null} */
let lastMessageAtMs = null;
let streamOpen = false;
function renderConn() {
  page.sessionsEmpty.style.display = model.sessions.size ? 'none' : '';
  const fs = model.follower;
  const state = !streamOpen ? 'reconnecting' : fs && fs.caughtUp ? 'live' : 'catching up';
  const last = lastMessageAtMs === null ? '' : ` · last update ${utc(lastMessageAtMs)}`;
  page.conn.textContent = `${state} · ${model.foldedEvents} events${fs && fs.lastError ? ` · read error: ${fs.lastError}` : ''}${last}`;
  page.conn.setAttribute('data-state', state);
}

// --- the event stream and the DLQ -------------------------------------------------------------------------

function connect() {
  const source = new EventSource(`/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  source.addEventListener('open', () => {
    streamOpen = true;
    renderConn();
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself (the server's `retry`) and the server starts it over with a snapshot.
    streamOpen = false;
    renderConn();
  });
  source.addEventListener('snapshot', (e) => {
    lastMessageAtMs = Date.now();
    applySnapshot(/** @type {StateResponse} */ (JSON.parse(e.data)));
  });
  source.addEventListener('changes', (e) => {
    lastMessageAtMs = Date.now();
    applyChanges(/** @type {ChangesMessage} */ (JSON.parse(e.data)));
  });
  source.addEventListener('ping', (e) => {
    lastMessageAtMs = Date.now();
    const serverMs = Number(e.data);
    if (isFinite(serverMs)) model.clockOffsetMs = serverMs - Date.now();
    renderConn();
  });
}

function readDlq() {
  return api('/api/dlq')
    .then((d) => {
      if (d.status !== 200) return;
      const body = /** @type {DlqResponse} */ (d.body);
      page.dlqDepth.textContent = String(body.depth);
      dlqTable.show(body.entries.slice().reverse());
    })
    .catch(() => undefined);
}

/** Which worker runs each partition and its sessions; the card stays hidden where the log is not partitioned (404). */
function readCluster() {
  return api('/api/cluster')
    .then((d) => {
      page.clusterCard.hidden = d.status !== 200;
      if (d.status !== 200) return;
      const body = /** @type {ClusterResponse} */ (d.body);
      const rows = body.partitions.map((p) =>
        el('tr', { 'data-partition': String(p.partition) }, [
          td(String(p.partition), 'num'),
          td(p.owner ?? 'none (free: a worker claims it within a beat)', 'mono'),
          td(p.token === null ? '' : String(p.token), 'num'),
          td(p.leaseRemainingMs === null ? '' : `${(p.leaseRemainingMs / 1000).toFixed(1)} s`, 'num'),
          td(`${p.unreadCommands} unread, ${p.pendingCommands} in progress`),
          td(p.sessions.join(', '), 'msg'),
        ]),
      );
      fillRows(page.clusterRows, rows, 'no partitions', 6);
    })
    .catch(() => undefined);
}

// --- start form -------------------------------------------------------------------------------------------

/** @param {string} name */
function startInput(name) {
  const found = page.startForm.elements.namedItem(name);
  if (!(found instanceof HTMLInputElement || found instanceof HTMLSelectElement)) throw new Error(`dashboard: no start field ${name}`);
  return found;
}
/**
 * @param {string} name
 * @param {string} value
 */
function setStartField(name, value) {
  startInput(name).value = value;
}

/**
 * The start form's command, or the first thing wrong with it in words (the server checks again).
 * @returns {DashboardCommand | string}
 */
function startCommand() {
  const userId = startInput('userId').value.trim();
  const mode = startInput('mode').value === 'live' && liveStartAllowed ? 'live' : 'paper';
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(userId)) return 'user: 1 to 64 letters, digits or . _ : -';
  const capitalText = startInput('capitalUsd').value.trim();
  const capitalUsd = Number(capitalText);
  if (capitalText === '' || !isFinite(capitalUsd)) return 'capital: enter an amount in USD, e.g. 1000';
  if (capitalUsd <= 0) return 'capital: must be more than $0';
  /** @type {{ stopLossPct?: number, horizonHours?: number }} */
  const optional = {};
  const slText = startInput('stopLossPct').value.trim();
  if (slText !== '') {
    const pct = Number(slText);
    if (!isFinite(pct) || pct <= 0 || pct >= 100) return 'stop-loss: a percentage above 0 and below 100, or empty for none';
    optional.stopLossPct = pct;
  }
  const hText = startInput('horizonHours').value.trim();
  if (hText !== '') {
    const hours = Number(hText);
    if (!isFinite(hours) || hours <= 0) return 'horizon: a number of hours above 0, or empty for none';
    optional.horizonHours = hours;
  }
  return { action: 'start', userId, mode, capitalUsd, ...optional };
}

page.startForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const command = startCommand();
  if (typeof command === 'string') {
    page.startError.textContent = command;
    return;
  }
  page.startError.textContent = '';
  if (
    command.action === 'start' &&
    command.mode === 'live' &&
    !confirm(`Start a LIVE session for ${command.userId} with ${usd(command.capitalUsd)} of real money?`)
  )
    return;
  const label = command.action === 'start' ? `start ${command.mode} ${command.userId} ${usd(command.capitalUsd)}` : 'start';
  void send(command, label).then((answer) => {
    if (typeof answer === 'string') page.startError.textContent = answer;
    else if (answer.status === 'rejected') page.startError.textContent = `refused: ${answer.reason ?? 'no reason given'}`;
  });
});

// --- header -----------------------------------------------------------------------------------------------

page.haltAll.addEventListener('click', () => {
  const reason = prompt('Halt ALL trading (every session is flattened)? Reason:', 'operator halt from dashboard');
  if (reason === null) return;
  void send(reason ? { action: 'halt_all', reason: reason.slice(0, 200) } : { action: 'halt_all' }, 'halt_all');
});
page.resumeAll.addEventListener('click', () => void send({ action: 'resume_all' }, 'resume_all'));

connect();
void readDlq();
setInterval(() => void readDlq(), dlqPollMs);
// Only a partitioned deployment has /api/cluster: elsewhere each poll was a 404, an error in the browser's console.
if (document.body.dataset.partitioned === '1') {
  void readCluster();
  setInterval(() => void readCluster(), dlqPollMs);
}
// Ages and time left move with the clock: redrawn locally, nothing fetched.
setInterval(() => model.sessions.forEach(renderTimes), 1_000);
