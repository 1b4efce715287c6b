import { createClient } from '@redis/client';
import { appendInPipelines } from './append-pipelines.js';

// A command producer in a process of its own (forked by harness.ts): appends the commands it is sent to the command
// stream in explicit pipelines, as the bot, CLI and dashboard do from processes of their own. Appended on the engine's
// event loop, the bench's own appends took turns with the engine's steps (about one pipeline per step) and the figure
// measured how fast the harness appended as much as how fast the engine decides; a process (not a thread) keeps the
// producer's CPU and memory out of the engine process's figures.

/** Parent → producer: where to append, then commands to append in order, then 'close'. */
export type AppendRequest = { connect: { url: string; key: string; pipelineDepth: number } } | { jsons: readonly string[] } | 'close';
/** Producer → parent: 'ready' once connected, then one answer per request of commands. */
export type AppendReply = 'ready' | { appended: number } | { error: string };

const send = (reply: AppendReply): void => {
  process.send?.(reply);
};
let writer: ReturnType<typeof createClient> | null = null;
let key = '';
let pipelineDepth = 1;
let queue = Promise.resolve();

process.on('message', (message: AppendRequest) => {
  queue = queue.then(async () => {
    try {
      if (message === 'close') {
        writer?.destroy();
        process.disconnect();
        return;
      }
      if ('connect' in message) {
        ({ key, pipelineDepth } = message.connect);
        writer = createClient({ url: message.connect.url, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
        await writer.connect();
        send('ready');
        return;
      }
      if (!writer) throw new Error('not connected');
      await appendInPipelines(writer, key, message.jsons, pipelineDepth);
      send({ appended: message.jsons.length });
    } catch (error) {
      send({ error: String(error) });
    }
  });
});
