import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The files the page loads besides itself, read once when the server module loads: a missing file fails the
// start, not the first page view. Paths come from the module's own location (import.meta.url) and from
// module resolution, never from the working directory, so any cwd and the installed bin serve the same files.

export interface StaticAsset {
  contentType: string;
  body: string;
}

const require = createRequire(import.meta.url);
const javascript = 'text/javascript; charset=utf-8';

function read(path: string | URL): string {
  return readFileSync(path, 'utf8');
}

/** URL path → file served there. The client is plain JS (checked by tsc through JSDoc): no build step. */
export const staticAssets: Readonly<Record<string, StaticAsset>> = {
  '/assets/dashboard.js': { contentType: javascript, body: read(new URL('./client/dashboard.js', import.meta.url)) },
  '/assets/uPlot.iife.min.js': { contentType: javascript, body: read(require.resolve('uplot/dist/uPlot.iife.min.js')) },
  '/assets/uPlot.min.css': { contentType: 'text/css; charset=utf-8', body: read(require.resolve('uplot/dist/uPlot.min.css')) },
};
