import type { OutboundEvent } from '../../contract/outbound.js';
import type { EngineCommand, StatusView } from './parse-command.js';
import { acceptedHtml, alertHtml, doneHtml, receivedText as receivedWords, rejectedHtml, statusHtml, truncateHtml } from './messages.js';

export { usd } from './messages.js';

// Engine answers (parsed by the contract's parseOutboundEvent) → chat text: which catalogue text (messages.ts)
// answers which event. Pure. What formatOutbound gives is Telegram HTML (the relay sends it with parse_mode HTML):
// every text from the engine is escaped in the catalogue, so nothing can break the markup; long texts are cut to fit
// one Telegram message.

export function receivedText(command: EngineCommand): string {
  return receivedWords(command.type);
}

/** `/status`, `/positions` and `/pnl` all ask the engine for `status`; the view picks what is shown. */
export const formatStatus = statusHtml;

/**
 * The chat text for an outbound event, or null when it is not for the chat (equity samples, unknown types).
 * `view` is the status view remembered for the reply's command, if any.
 */
export function formatOutbound(event: OutboundEvent, view: StatusView | null = null): string | null {
  const e = event;
  switch (e.type) {
    case 'reply':
      switch (e.status) {
        case 'rejected':
          return truncateHtml(rejectedHtml(e.commandType, e.reason));
        case 'accepted':
          // Only session.stop is answered "accepted" today; a later engine may accept others first.
          return truncateHtml(acceptedHtml(e.commandType));
        case 'done':
          return truncateHtml(doneHtml(e, view));
      }
      return null;
    case 'alert':
      return truncateHtml(alertHtml(e.kind, e.message));
    default:
      return null;
  }
}
