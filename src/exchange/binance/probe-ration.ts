// The silence probes of every user stream on one connector share one ration.
//
// A probe is an out-of-turn keep-alive (PUT /fapi/v1/listenKey, weight 1) sent after `silenceProbeMs` without a
// user-data message (user-stream.ts). A quiet account (no orders, no funding) gets no messages at all, so unrationed
// every quiet account cost one PUT per silence period: 10 000 accounts with the 5 min default spent 2 000 of the IP's
// 2 400 weight per minute on probes alone, and no session of the bench got a position within 15 minutes.
//
// So probes wait in one queue per connector (one connector = one venue and IP, the unit Binance counts weight in)
// and leave it at most `silenceProbesPerMinute`, evenly spaced, oldest request first: a stream whose turn has not come
// stays queued and is probed later, never dropped. Past the ration a stream's key is still checked by its periodic
// keep-alive (every 30 min), which answers -1125 for a dead key just as a probe does; the echo check of our own
// orders is not rationed (it costs no request).

export interface SilenceProbeRation {
  /**
   * Queues a probe. `probe` is called when the ration allows; it returns false when it no longer needs to be sent
   * (the stream heard from in the meantime, or closed), which spends nothing. Returns a function that withdraws
   * the request (a closing stream).
   */
  request(probe: () => boolean): () => void;
}

/**
 * Probes per minute for all accounts of one connector: 120 = 5 % of Binance's 2 400 request weight per minute per IP
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info, "LIMITS"; a keep-alive weighs 1,
 * account.ts `listenKeyCost`).
 * It probes 600 quiet accounts every 5 min; with more, each one's probe comes later, and from 3 600 accounts on
 * (120 × 30 min) the periodic keep-alive reaches a key first anyway.
 */
export const defaultSilenceProbesPerMinute = 120;

const minuteMs = 60_000;

export function createSilenceProbeRation(probesPerMinute: number, nowMs: () => number = () => Date.now()): SilenceProbeRation {
  if (!(probesPerMinute > 0)) throw new Error(`silenceProbesPerMinute must be positive, got ${probesPerMinute}`);
  const spacingMs = minuteMs / probesPerMinute;
  /** Insertion order is request order: the longest-waiting stream goes first. */
  const waiting = new Map<symbol, () => boolean>();
  let lastSentAtMs = -Infinity;
  let timer: NodeJS.Timeout | null = null;

  const pump = (): void => {
    timer = null;
    while (waiting.size > 0) {
      const waitMs = lastSentAtMs + spacingMs - nowMs();
      if (waitMs > 0) {
        timer = setTimeout(pump, Math.ceil(waitMs));
        return;
      }
      const next = waiting.entries().next();
      if (next.done) return;
      const [ticket, probe] = next.value;
      waiting.delete(ticket);
      if (probe()) lastSentAtMs = nowMs();
    }
  };

  return {
    request(probe) {
      const ticket = Symbol('probe');
      waiting.set(ticket, probe);
      if (timer === null) pump();
      return () => {
        waiting.delete(ticket);
        if (waiting.size === 0 && timer !== null) {
          clearTimeout(timer);
          timer = null;
        }
      };
    },
  };
}
