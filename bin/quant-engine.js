#!/usr/bin/env node
// `quant-engine <service>`: runs the TypeScript entry point through tsx's loader (no build step). `cli`, called
// often and expected to answer at once, runs from a bundle compiled on first use (bin/compiled-cli.js) and falls
// back to tsx when it cannot be built.
if (process.argv[2] === 'cli') {
  const { compiledCli } = await import('./compiled-cli.js');
  const bundle = await compiledCli();
  if (bundle !== null) {
    const { runCli } = await import(bundle);
    process.exitCode = await runCli(process.argv.slice(3));
  }
}
if (process.argv[2] !== 'cli' || process.exitCode === undefined) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
