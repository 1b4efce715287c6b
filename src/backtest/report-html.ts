import { round, toUsd } from '../model/decimal.js';
import type { CurvePoint } from './metrics.js';
import type { BacktestResult } from './run-backtest.js';

// The backtest's report as one self-contained HTML page: no network, no external file. The charts are inline SVG
// drawn here (equity, drawdown, exposure over time, maker vs taker share); a small inline script reads the same
// figures from the JSON embedded in the page and shows the value under the pointer. The JSON report beside it holds
// the same figures.

/** Trades the page lists (the JSON report holds them all). */
export const maxTableTrades = 5_000;

const chartWidth = 960;
const chartHeight = 220;
const pad = { left: 70, right: 16, top: 14, bottom: 26 };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a <script> element: no `</script>` or `<!--` can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Decimals a trade's realized PnL is shown with: Binance's for USDT amounts (commissions and realized PnL come with
 * 8). The engine's is exact, from an entry averaged to 12 decimals ("0.104870588235294"); the cell's title holds it.
 */
const tradePnlDecimals = 8;

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

interface Series {
  id: string;
  title: string;
  unit: string;
  values: (p: CurvePoint) => number;
  /** Filled down to the zero line (drawdown) instead of a line. */
  area: boolean;
  color: string;
}

/** The kill switch's line on a chart, at x, with its reason above the plot. */
function killMarker(x: number, h: number, reason: string): string {
  const at = x.toFixed(1);
  return `<line class="kill-switch" x1="${at}" x2="${at}" y1="${pad.top}" y2="${pad.top + h}" stroke="#c0392b" stroke-dasharray="4 3"/>
<text class="kill-switch" x="${at}" y="${pad.top - 3}" text-anchor="middle" fill="#c0392b">kill switch: ${escapeHtml(reason)}</text>`;
}

/**
 * One time series as an inline SVG chart with its axes' end labels; `data-series` names the curve field it plots.
 * `killed`: when and why the kill switch ended the run, marked as a dashed red line (null: not engaged).
 */
function chart(curve: readonly CurvePoint[], s: Series, killed: { atMs: number; reason: string } | null): string {
  const w = chartWidth - pad.left - pad.right;
  const h = chartHeight - pad.top - pad.bottom;
  const xs = curve.map((p) => p.atMs);
  const ys = curve.map(s.values);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = Math.min(...ys, s.area ? 0 : Infinity);
  let y1 = Math.max(...ys, s.area ? 0 : -Infinity);
  if (y1 - y0 < 1e-9) {
    y0 -= 1;
    y1 += 1;
  }
  const px = (x: number): number => pad.left + (x1 > x0 ? ((x - x0) / (x1 - x0)) * w : w / 2);
  const py = (y: number): number => pad.top + (1 - (y - y0) / (y1 - y0)) * h;
  const points = curve.map((p, i) => `${px(p.atMs).toFixed(1)},${py(ys[i] as number).toFixed(1)}`);
  const path = s.area ? `M${px(x0).toFixed(1)},${py(0).toFixed(1)} L${points.join(' L')} L${px(x1).toFixed(1)},${py(0).toFixed(1)} Z` : `M${points.join(' L')}`;
  const label = (y: number): string => `${fixed(y, Math.abs(y1 - y0) < 10 ? 3 : 2)}${s.unit}`;
  return `<section class="chart"><h2>${escapeHtml(s.title)}</h2>
<svg id="chart-${s.id}" data-series="${s.id}" viewBox="0 0 ${chartWidth} ${chartHeight}" width="100%" role="img" aria-label="${escapeHtml(s.title)}">
<rect x="${pad.left}" y="${pad.top}" width="${w}" height="${h}" fill="#fafafa" stroke="#ddd"/>
<text x="${pad.left - 6}" y="${pad.top + 10}" text-anchor="end">${label(y1)}</text>
<text x="${pad.left - 6}" y="${pad.top + h}" text-anchor="end">${label(y0)}</text>
<text x="${pad.left}" y="${chartHeight - 6}">${isoMinute(x0)}</text>
<text x="${pad.left + w}" y="${chartHeight - 6}" text-anchor="end">${isoMinute(x1)}</text>
<path class="series" d="${path}" fill="${s.area ? s.color : 'none'}" fill-opacity="${s.area ? 0.35 : 1}" stroke="${s.color}" stroke-width="1.5"/>
${killed !== null && killed.atMs >= x0 && killed.atMs <= x1 ? killMarker(px(killed.atMs), h, killed.reason) : ''}
<line class="cursor" x1="0" x2="0" y1="${pad.top}" y2="${pad.top + h}" stroke="#888" visibility="hidden"/>
</svg><div class="readout" id="readout-${s.id}">&nbsp;</div></section>`;
}

function shareBar(makerPct: number): string {
  const w = 600;
  const maker = Math.max(0, Math.min(100, makerPct));
  return `<section class="chart"><h2>Maker vs taker (share of trades)</h2>
<svg id="chart-share" viewBox="0 0 ${w} 40" width="${w}" height="40" role="img" aria-label="maker vs taker share">
<rect x="0" y="4" width="${((maker / 100) * w).toFixed(1)}" height="26" fill="#2a7"/>
<rect x="${((maker / 100) * w).toFixed(1)}" y="4" width="${(((100 - maker) / 100) * w).toFixed(1)}" height="26" fill="#d73"/>
</svg><div>maker ${fixed(maker, 1)} % · taker ${fixed(100 - maker, 1)} %</div></section>`;
}

function figuresTable(r: BacktestResult): string {
  const s = r.summary;
  const m = r.metrics;
  const returns = returnsText(r.hourlyEquity.length);
  const rows: [string, string][] = [
    ['Strategy', s.strategy],
    ['Symbols', s.symbols.join(', ')],
    ['Period', `${s.from} – ${s.to}`],
    ['Quotes', String(s.quotes)],
    ['Capital (USD)', fixed(s.capitalUsd, 2)],
    ['Final equity (USD)', fixed(s.finalEquityUsd, 2)],
    ['Total return', `${fixed(s.totalReturnPct, 4)} %`],
    ['Max drawdown', `${fixed(m.maxDrawdownPct, 4)} %`],
    // How many hourly returns the ratios rest on: annualised from a few hours they read large and mean little.
    ['Sharpe (annualised, hourly)', `${fixed(m.sharpe, 3)} (from ${returns})`],
    ['Sortino (annualised, hourly)', `${fixed(m.sortino, 3)} (from ${returns})`],
    ['Trades', `${s.trades} (maker ${m.makerTrades}, taker ${m.takerTrades})`],
    // Queue fills only: a run without prints (or a report from before them) has no such row.
    ...(s.makerTradesFromPrints > 0 ? [['Maker trades from aggTrades prints', String(s.makerTradesFromPrints)] as [string, string]] : []),
    ['Maker share', `${fixed(m.makerSharePct, 2)} % of trades, ${fixed(m.makerNotionalSharePct, 2)} % of notional`],
    ['Win rate', `${fixed(m.winRatePct, 2)} % of ${m.closingTrades} closing trades`],
    ['Turnover', `${fixed(m.turnover, 3)} × capital (${fixed(m.tradedNotionalUsd, 2)} USD traded)`],
    ['Realized PnL (USD)', fixed(s.realizedPnlUsd, 4)],
    ['Fees (USD)', fixed(m.feesUsd, 4)],
    ['Funding (USD)', `${fixed(m.fundingUsd, 4)} over ${s.fundingTimes} funding times`],
    ['Exposure', `mean ${fixed(m.meanExposurePct, 2)} % of equity, max ${fixed(m.maxExposureUsd, 2)} USD`],
    ['Orders sent', String(s.ordersSent)],
    ['Kill switch', killSwitchText(s.killSwitch ?? null)],
    ['Targets not acted on', s.targetsNotActedOn > 0 ? `${s.targetsNotActedOn} (why: below the trades)` : 'none'],
  ];
  return `<table id="figures" class="figures">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

/** The hourly returns behind the Sharpe and Sortino ratios (figures.ts: one per hour end, the first from the capital). */
function returnsText(hours: number): string {
  return hours === 1 ? '1 hourly return' : `${hours} hourly returns`;
}

/** Whether the session's kill switch cut the run short, and why: the figures are of the run up to then. */
function killSwitchText(engaged: BacktestResult['summary']['killSwitch']): string {
  if (engaged === null) return 'not engaged: the session traded to the end of the data';
  const at = engaged.at.replace('T', ' ').replace('Z', ' UTC');
  return `engaged ${at}: ${engaged.text}. The session was flattened then and entered nothing after`;
}

/** A trade's realized PnL cell: at tradePnlDecimals, the exact figure in its title. */
function pnlCell(exact: string | null): string {
  if (exact === null) return '<td>–</td>';
  const shown = round(toUsd(exact), tradePnlDecimals, 'half-even');
  return shown === exact ? `<td>${escapeHtml(exact)}</td>` : `<td title="${escapeHtml(exact)}">${escapeHtml(shown)}</td>`;
}

function tradesTable(r: BacktestResult): string {
  const shown = r.trades.slice(0, maxTableTrades);
  const more = r.trades.length - shown.length;
  const head =
    '<tr><th>time (UTC)</th><th>symbol</th><th>side</th><th>qty</th><th>price</th><th>notional</th><th>role</th><th>fee</th><th>realized PnL</th></tr>';
  const body = shown
    .map(
      (t) =>
        `<tr><td>${new Date(t.timeMs).toISOString().replace('T', ' ').slice(0, 23)}</td><td>${escapeHtml(t.symbol)}</td><td>${t.side}</td><td>${escapeHtml(t.qty)}</td><td>${escapeHtml(t.price)}</td><td>${escapeHtml(t.notionalUsd)}</td><td class="${t.role}">${t.role}</td><td>${escapeHtml(t.feeUsd)}</td>${pnlCell(t.realizedPnlUsd)}</tr>`,
    )
    .join('\n');
  const note = more > 0 ? `<p>${more} more trades in the JSON report.</p>` : '';
  return `<section><h2>Trades</h2><div class="scroll"><table id="trades" class="trades"><thead>${head}</thead><tbody>\n${body}\n</tbody></table></div>${note}</section>`;
}

/** Why the strategy's targets were not acted on, per symbol and reason; nothing when every one was. */
function skippedTable(r: BacktestResult): string {
  if (r.targetsSkipped.length === 0) return '';
  const head = '<tr><th>symbol</th><th>times</th><th>first (UTC)</th><th>last (UTC)</th><th>why (the first time)</th></tr>';
  const time = (iso: string): string => iso.replace('T', ' ').slice(0, 19);
  const body = r.targetsSkipped
    .map(
      (k) =>
        `<tr><td>${escapeHtml(k.symbol)}</td><td>${k.count}</td><td>${time(k.firstAt)}</td><td>${time(k.lastAt)}</td><td>${escapeHtml(k.reason)}</td></tr>`,
    )
    .join('\n');
  return `<section><h2>Targets not acted on</h2><table id="skipped" class="trades"><thead>${head}</thead><tbody>\n${body}\n</tbody></table></section>`;
}

/** The pointer's readout: the nearest point of the curve under it, from the figures embedded in the page. */
const readoutScript = `
(() => {
  const report = JSON.parse(document.getElementById('report-data').textContent);
  const curve = report.equityCurve;
  const units = { equity: ' USD', drawdown: ' %', exposure: ' % of equity' };
  const value = (id, p) => id === 'equity' ? p.equityUsd : id === 'drawdown' ? -p.drawdownPct : p.equityUsd > 0 ? (p.exposureUsd / p.equityUsd) * 100 : 0;
  for (const svg of document.querySelectorAll('svg[data-series]')) {
    const id = svg.dataset.series;
    const cursor = svg.querySelector('.cursor');
    const readout = document.getElementById('readout-' + id);
    const box = svg.viewBox.baseVal;
    const left = ${pad.left};
    const width = box.width - left - ${pad.right};
    const t0 = curve[0].atMs;
    const t1 = curve[curve.length - 1].atMs;
    svg.addEventListener('mousemove', (event) => {
      const rect = svg.getBoundingClientRect();
      const x = ((event.clientX - rect.left) / rect.width) * box.width;
      const t = t0 + Math.max(0, Math.min(1, (x - left) / width)) * (t1 - t0);
      let best = curve[0];
      for (const p of curve) if (Math.abs(p.atMs - t) < Math.abs(best.atMs - t)) best = p;
      const bx = t1 > t0 ? left + ((best.atMs - t0) / (t1 - t0)) * width : left;
      cursor.setAttribute('x1', bx);
      cursor.setAttribute('x2', bx);
      cursor.setAttribute('visibility', 'visible');
      readout.textContent = new Date(best.atMs).toISOString().replace('T', ' ').slice(0, 19) + ' UTC: ' + value(id, best).toFixed(4) + units[id];
    });
  }
})();
`;

export function reportHtml(r: BacktestResult): string {
  const curve = r.equityCurve;
  const killSwitch = r.summary.killSwitch ?? null;
  const killed = killSwitch === null ? null : { atMs: Date.parse(killSwitch.at), reason: killSwitch.reason };
  const charts =
    curve.length > 0
      ? [
          chart(curve, { id: 'equity', title: 'Equity (USD, at bid/ask)', unit: '', values: (p) => p.equityUsd, area: false, color: '#1f5fbf' }, killed),
          chart(
            curve,
            {
              id: 'drawdown',
              title: 'Drawdown (% below the running peak)',
              unit: ' %',
              values: (p) => -p.drawdownPct,
              area: true,
              color: '#c0392b',
            },
            killed,
          ),
          chart(
            curve,
            {
              id: 'exposure',
              title: 'Gross exposure (% of equity)',
              unit: ' %',
              values: (p) => (p.equityUsd > 0 ? (p.exposureUsd / p.equityUsd) * 100 : 0),
              area: true,
              color: '#7d3c98',
            },
            killed,
          ),
        ].join('\n')
      : '<p>No equity samples.</p>';
  const data = { summary: r.summary, metrics: r.metrics, equityCurve: curve, funding: r.funding, assumptions: r.assumptions };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backtest: ${escapeHtml(r.summary.strategy)} on ${escapeHtml(r.summary.symbols.join(', '))}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1000px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.05rem; margin: 1.2rem 0 0.3rem; }
table { border-collapse: collapse; } th, td { padding: 2px 8px; text-align: left; border-bottom: 1px solid #eee; }
table.figures th { font-weight: normal; color: #555; } table.trades td { font-variant-numeric: tabular-nums; white-space: nowrap; }
td.maker { color: #2a7; } td.taker { color: #d73; }
svg text { font-size: 11px; fill: #555; } .readout { color: #555; min-height: 1.2em; font-size: 12px; }
.scroll { max-height: 420px; overflow: auto; border: 1px solid #eee; }
</style></head>
<body>
<h1>Backtest: ${escapeHtml(r.summary.strategy)} on ${escapeHtml(r.summary.symbols.join(', '))}</h1>
${figuresTable(r)}
${charts}
${shareBar(r.metrics.makerSharePct)}
${tradesTable(r)}
${skippedTable(r)}
<section><h2>Assumptions</h2><ul id="assumptions">${r.assumptions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul></section>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${curve.length > 0 ? readoutScript : ''}</script>
</body></html>
`;
}
