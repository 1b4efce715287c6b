import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const mainPath = fileURLToPath(new URL('../../src/paper-exchange/main.ts', import.meta.url));

describe('simulator CLI', () => {
  it('prints its URLs, serves REST, and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainPath, '--port', '0', '--seed', '5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const restUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /REST (http:\/\/\S+)/.exec(out);
          if (m?.[1] && /WS +ws:\/\//.test(out)) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      const ping = await fetch(`${restUrl}/fapi/v1/ping`);
      expect(ping.status).toBe(200);
      expect(await ping.json()).toEqual({});
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
