import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// `--help` (or `-h`) after a service name prints the usage and exits 0. Before, the services that have no usage of
// their own started on it: `simulator --help` bound a port and served, `dashboard --help` listened, `doctor --help`
// ran its checks against a simulator it started, `execution --help` went to trade.

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

describe('quant-engine <service> --help', () => {
  it('prints the usage and exits 0 without starting the service', { timeout: 60_000 }, async () => {
    for (const argv of [['simulator', '--help'], ['doctor', '-h'], ['--help']]) {
      // execFile rejects on a non-zero exit; a started simulator would not exit before the timeout (killed: rejects).
      const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'quant-engine.js'), ...argv], { cwd: root, timeout: 20_000 });
      expect(stdout).toMatch(/^usage: quant-engine <service> \[flags\]\n/);
      expect(stdout).not.toMatch(/exchange simulator REST|clock offset/);
      expect(stderr).toBe('');
    }
  });
});
