import { parentPort, workerData } from 'node:worker_threads';
import { createClient } from '@redis/client';

// A command producer on a thread of its own: appends the commands it is sent to the command stream in explicit
// pipelines, as the bot, CLI and dashboard do from processes of their own. Appended on the engine's thread, the
// bench's own appends took turns with the engine's steps on one event loop (about one pipeline per step), and the
// figure measured how fast the harness appended as much as how fast the engine decides.

export interface AppendWorkerData {
  url: string;
  key: string;
  pipelineDepth: number;
}
/** Parent → producer: commands to append, in order. Producer → parent: `ready` once connected, then `appended` per request. */
export interface AppendRequest {
  jsons: readonly string[];
}

const { url, key, pipelineDepth } = workerData as AppendWorkerData;
const port = parentPort;
if (!port) throw new Error('append-worker.ts runs as a worker thread');
const writer = createClient({ url, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
await writer.connect();
let queue = Promise.resolve();
port.on('message', (message: AppendRequest | 'close') => {
  if (message === 'close') {
    queue = queue.then(() => {
      writer.destroy();
      port.close();
    });
    return;
  }
  queue = queue.then(async () => {
    try {
      for (let i = 0; i < message.jsons.length; i += pipelineDepth) {
        const multi = writer.multi();
        for (const json of message.jsons.slice(i, i + pipelineDepth)) multi.xAdd(key, '*', { data: json });
        await multi.execAsPipeline();
      }
      port.postMessage({ appended: message.jsons.length });
    } catch (error) {
      port.postMessage({ error: String(error) });
    }
  });
});
// Connected and loaded: the producer's own start-up is never inside a measured window.
port.postMessage('ready');
