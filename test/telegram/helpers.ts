import { createClient } from '@redis/client';
import type { EngineLog } from '../../src/log/port.js';
import { streamNames } from '../../src/log/port.js';
import type { FakeTelegram } from '../support/fake-telegram-api.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** Every command entry ever appended under the prefix (parsed when JSON), read with XRANGE: nothing is consumed. */
export async function commandsInStream(prefix: string): Promise<Record<string, unknown>[]> {
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    const entries = await client.xRange(`${prefix}${streamNames.commands}`, '-', '+');
    return (entries ?? []).map((e) => {
      try {
        return JSON.parse(e.message.data ?? '') as Record<string, unknown>;
      } catch {
        return { raw: e.message.data };
      }
    });
  } finally {
    client.destroy();
  }
}

/** Entries of the outbound stream delivered to the telegram group and not acknowledged. */
export async function telegramPendingCount(prefix: string): Promise<number> {
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    const summary = await client.xPending(`${prefix}${streamNames.outbound}`, 'telegram');
    return Number(summary.pending);
  } finally {
    client.destroy();
  }
}

export async function allWal(log: EngineLog): Promise<string[]> {
  const out: string[] = [];
  for (let after: string | null = null; ;) {
    const batch = await log.readWal(after, 1000);
    if (batch.length === 0) return out;
    out.push(...batch.map((r) => r.data));
    after = batch[batch.length - 1]?.id ?? after;
  }
}

/** Sends `text` as `userId` and waits until a message in that chat, sent after it, matches. */
export async function converse(fake: FakeTelegram, userId: number, text: string, expected: RegExp): Promise<string> {
  const before = fake.messages(userId).length;
  fake.pushText(userId, text);
  return waitFor(`a message matching ${expected} after "${text.split(' ')[0]}"`, () =>
    fake
      .messages(userId)
      .slice(before)
      .find((m) => expected.test(m)),
  );
}

export function count(fake: FakeTelegram, chatId: number, pattern: RegExp): number {
  return fake.messages(chatId).filter((m) => pattern.test(m)).length;
}

/** Presses an inline button (callback data) as `userId` on message `messageId` in `chatId`; waits for a matching message after it. */
export async function pressButton(
  fake: FakeTelegram,
  userId: number,
  data: string,
  at: { chatId: number; messageId: number },
  expected: RegExp,
): Promise<string> {
  const before = fake.messages(at.chatId).length;
  fake.pushCallback(userId, data, at);
  return waitFor(`a message matching ${expected} after a press`, () =>
    fake
      .messages(at.chatId)
      .slice(before)
      .find((m) => expected.test(m)),
  );
}
