import { createClient } from '@redis/client';

// The bench's reader of the outbound stream in a process of its own (forked by harness.ts): it follows the stream and
// keeps the final replies (done / rejected) by command id, as the bot, CLI and dashboard read replies from processes
// of their own. Read and parsed on the engine's event loop, the replies of a command run cost the engine process
// about a tenth of its CPU (5.6 % self time in the follower alone, plus its connection's decoding: bench profile of
// 40 000 commands) and took turns with the engine's steps: the figure measured the reader as much as the engine.

/** Outbound entries read per XREAD, and how long one read blocks (ms). */
const readBatchEntries = 1_000;
const readBlockMs = 100;

/** Parent → follower: where to read (from the entry after `afterId`), then questions, then 'close'. */
export type FollowerRequest =
  | { connect: { url: string; key: string; afterId: string } }
  | { id: number; finalReplies: { tag: string; count: number; timeoutMs: number } }
  | { id: number; reply: { commandId: string; timeoutMs: number } }
  | 'close';
/** Follower → parent: 'ready' once connected; each question answered by its id once true or timed out. */
export type FollowerAnswer = 'ready' | { id: number; count: number } | { id: number; status: 'done' | 'rejected' | null } | { error: string };

const send = (answer: FollowerAnswer): void => {
  process.send?.(answer);
};

const finals = new Map<string, 'done' | 'rejected'>();
const finalsByTag = new Map<string, number>();
const tagOf = (commandId: string): string => commandId.slice(0, Math.max(0, commandId.indexOf(':')));
/** Questions not answered yet: answered (and dropped) when true after a read, or when their time is up. */
const open = new Map<number, { answered: () => boolean; timer: NodeJS.Timeout }>();
let closed = false;
let following: Promise<void> = Promise.resolve();

function ask(id: number, answerIfTrue: () => boolean, answerNow: () => void, timeoutMs: number): void {
  if (answerIfTrue()) return;
  const timer = setTimeout(() => {
    open.delete(id);
    answerNow();
  }, timeoutMs);
  open.set(id, { answered: answerIfTrue, timer });
}

/** Answers the open questions that are true now; their timers go with them (a pending one kept the process alive). */
function answerOpen(): void {
  for (const [id, question] of open) {
    if (!question.answered()) continue;
    clearTimeout(question.timer);
    open.delete(id);
  }
}

async function follow(url: string, key: string, afterId: string): Promise<void> {
  const reader = createClient({ url, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
  await reader.connect();
  send('ready');
  let cursor = afterId;
  while (!closed) {
    const reply = (await reader.xRead({ key, id: cursor }, { COUNT: readBatchEntries, BLOCK: readBlockMs })) as
      { messages: { id: string; message: { data?: string } }[] }[] | null;
    for (const entry of reply?.[0]?.messages ?? []) {
      cursor = entry.id;
      const data = entry.message.data ?? '';
      // Only replies are parsed: equity samples and alerts are most of the stream and none of the bench's business.
      if (!data.startsWith('{"type":"reply"')) continue;
      const event = JSON.parse(data) as { commandId: string; status: string };
      if ((event.status !== 'done' && event.status !== 'rejected') || finals.has(event.commandId)) continue;
      finals.set(event.commandId, event.status);
      const tag = tagOf(event.commandId);
      finalsByTag.set(tag, (finalsByTag.get(tag) ?? 0) + 1);
    }
    answerOpen();
  }
  reader.destroy();
}

process.on('message', (message: FollowerRequest) => {
  try {
    if (message === 'close') {
      closed = true;
      for (const question of open.values()) clearTimeout(question.timer);
      void following.finally(() => process.disconnect());
      return;
    }
    if ('connect' in message) {
      const { url, key, afterId } = message.connect;
      following = follow(url, key, afterId).catch((error: unknown) => send({ error: String(error) }));
      return;
    }
    if ('finalReplies' in message) {
      const { tag, count, timeoutMs } = message.finalReplies;
      const answer = (): void => send({ id: message.id, count: finalsByTag.get(tag) ?? 0 });
      ask(message.id, () => ((finalsByTag.get(tag) ?? 0) >= count ? (answer(), true) : false), answer, timeoutMs);
      return;
    }
    const { commandId, timeoutMs } = message.reply;
    const answer = (): void => send({ id: message.id, status: finals.get(commandId) ?? null });
    ask(message.id, () => (finals.has(commandId) ? (answer(), true) : false), answer, timeoutMs);
  } catch (error) {
    send({ error: String(error) });
  }
});
