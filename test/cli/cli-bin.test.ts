import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Issue 15 item 6: `quant-engine cli` ran through tsx, compiling the whole service graph (bot, dashboard,
// simulator) on every call: 4–10 s for a command the engine answers in tens of milliseconds. It now runs from a
// bundle of the CLI alone, rebuilt whenever one of its sources changes. (No timing asserted: the machine is shared.)

const root = join(import.meta.dirname, '..', '..');
const manifestPath = join(root, '.cache', 'cli', 'manifest.json');
const run = promisify(execFile);

interface Manifest {
  bundle: string;
  inputs: Record<string, string>;
}

const manifest = (): Manifest => JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'quant-engine.js'), 'cli', ...argv], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('quant-engine cli (the bin)', () => {
  it('runs from a compiled bundle of the CLI alone, and rebuilds it when a source changed', { timeout: 60_000 }, async () => {
    const help = await cli('help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: quant-engine cli /);
    const built = manifest();
    expect(Object.keys(built.inputs)).toContain('src/services/cli/run-cli.ts');
    for (const heavy of ['src/services/telegram/', 'src/services/dashboard/', 'src/paper-exchange/', 'src/services/all/']) {
      expect(Object.keys(built.inputs).filter((file) => file.startsWith(heavy))).toEqual([]);
    }
    expect(statSync(join(root, '.cache', 'cli', built.bundle)).isFile()).toBe(true);

    // A source newer than the bundle (here: a fingerprint that no longer matches) makes the next call rebuild.
    writeFileSync(manifestPath, JSON.stringify({ ...built, inputs: { ...built.inputs, 'src/services/cli/parse.ts': 'changed' } }));
    const usage = await cli();
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^no command given\nusage: quant-engine cli/);
    expect(manifest().inputs['src/services/cli/parse.ts']).not.toBe('changed');
  });
});
