// The `cli` service as one compiled bundle, so that a call does not pay tsx's loader and a per-file compile of
// its import graph (seconds on a busy machine; a command against a running engine takes tens of milliseconds).
// esbuild bundles src/services/cli/run-cli.ts into .cache/cli/ (packages stay in node_modules); the manifest
// lists every source file in the bundle with its modification time and size, and any change rebuilds it, so the
// bundle is never older than the code. Anything going wrong here returns null: the caller falls back to tsx.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache', 'cli');
const manifestPath = join(cacheDir, 'manifest.json');
const entry = 'src/services/cli/run-cli.ts';
/** Older builds are removed after this long: a call that started on one may still load its lazy chunks. */
const oldBuildMaxAgeMs = 60 * 60 * 1000;

function fingerprint(file) {
  const s = statSync(join(root, file));
  return `${s.mtimeMs}:${s.size}`;
}

function fresh(manifest) {
  try {
    return Object.entries(manifest.inputs).every(([file, print]) => fingerprint(file) === print);
  } catch {
    return false; // a source deleted or renamed
  }
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return null;
  }
}

async function build() {
  const { build: esbuild } = await import('esbuild');
  // A fresh directory per build, published by renaming the manifest: a concurrent call reads a whole bundle.
  const outdir = join(cacheDir, `build-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: { cli: entry },
    bundle: true,
    splitting: true, // dynamic imports (Redis, the engine, the key store) stay separate chunks, loaded on use
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) inputs[file] = fingerprint(file);
  const manifest = { bundle: relative(cacheDir, join(outdir, 'cli.js')), inputs };
  const temporary = `${manifestPath}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify(manifest));
  renameSync(temporary, manifestPath);
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (name.startsWith('build-') && path !== outdir && Date.now() - statSync(path).mtimeMs > oldBuildMaxAgeMs) rmSync(path, { recursive: true, force: true });
  }
  return manifest;
}

/** The compiled CLI's URL, built or rebuilt first when a source changed; null when it cannot be had. */
export async function compiledCli() {
  try {
    const existing = readManifest();
    const manifest = existing !== null && fresh(existing) ? existing : await build();
    return pathToFileURL(join(cacheDir, manifest.bundle)).href;
  } catch {
    return null;
  }
}
