// uPlot.iife.min.js, loaded by a classic <script> before dashboard.js, defines the global `uPlot` (a top-level
// var). Undefined when that script failed to load: the client checks before drawing a chart.
declare global {
  var uPlot: typeof import('uplot') | undefined;
}

export {};
