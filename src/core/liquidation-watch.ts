import type { PositionSnapshot } from '../model/positions.js';
import { isZero } from '../model/decimal.js';
import type { DecisionContext } from './context.js';
import { liquidationProximity } from './preflight.js';
import { engageKillSwitch } from './risk-rules.js';

// A held position drifting toward its liquidation price (issue 10 item 5): the exchange's own liquidation
// price, read with the positions every protective-stop check (GET /fapi/v3/positionRisk), compared with its
// mark. Within liquidationAlertDistanceBps the session is alerted and reduced — to flat, through the kill
// switch: a liquidation closes everything at the worst moment and charges a clearance fee, so the engine
// closes first, on its own terms, and blocks re-entry until a new session is started.

export function watchLiquidation(ctx: DecisionContext, userId: string, positions: readonly PositionSnapshot[]): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || session.status === 'closed' || session.killSwitch.engaged) return;
  for (const p of positions) {
    if (p.liquidationPrice === undefined || p.markPrice === undefined) continue;
    const held = session.positions[p.symbol];
    if (!held || isZero(held.qty)) continue;
    const near = liquidationProximity(
      { symbol: p.symbol, positionAmt: p.positionAmt, liquidationPrice: p.liquidationPrice, markPrice: p.markPrice },
      ctx.config.liquidationAlertDistanceBps,
    );
    if (!near) continue;
    engageKillSwitch(
      ctx,
      userId,
      'liquidation_near',
      'kill_switch',
      `${p.symbol} is ${near.distanceBps} bps from its liquidation price ${p.liquidationPrice} (mark ${p.markPrice}; alert distance ${ctx.config.liquidationAlertDistanceBps} bps)`,
    );
    return;
  }
}
