// Bundles the extension host client, the doctor server and the CLI into dist/.
// @vscode/sqlite3 stays external: it is a native addon that ships its own .node file.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  external: ['vscode', '@vscode/sqlite3'],
};

const builds = [
  { ...common, entryPoints: { extension: 'src/host/main.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { server: 'src/server/main.ts' }, outdir: 'dist' },
  // The storage-code linter and the TypeScript compiler it needs, in a bundle of their own:
  // the server loads it on the first storage file (src/server/pragmaLint.ts), so until then
  // V8 has not even parsed the compiler (~19 MB of the server's memory).
  { ...common, entryPoints: { lint: 'src/lint/pragmaLint.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { writer: 'src/bin/writer.ts' }, outdir: 'dist' },
  {
    ...common,
    entryPoints: { cli: 'src/bin/cli.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  // The webviews (trace explorer, Lock Monitor with uPlot): browser bundles, no Node APIs.
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    external: [],
    entryPoints: { explorer: 'webview/explorer/main.ts', monitor: 'webview/monitor/main.ts' },
    outdir: 'dist',
  },
  // uPlot's stylesheet beside the bundles: the Lock Monitor's CSP loads styles from the
  // extension's own files only, never inline.
  { ...common, platform: 'browser', external: [], sourcemap: false, entryPoints: { uplot: 'node_modules/uplot/dist/uPlot.min.css' }, outdir: 'dist' },
  // The extension-host test suite and its desktop launcher (mocha stays a node module).
  { ...common, entryPoints: { 'test/suite': 'test/vscode/suite/index.ts' }, outdir: 'dist', external: [...common.external, 'mocha'] },
  { ...common, entryPoints: { 'test/runTests': 'test/vscode/runTests.ts' }, outdir: 'dist', external: [...common.external, '@vscode/test-electron'] },
];

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
