// Integration and end-to-end tests run what ships: dist/server.js, dist/cli.js,
// dist/writer.js. Their mocha configs require this file, which builds dist/ once before
// any test runs, so `npm run test:integration` works on a fresh clone.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
execFileSync(process.execPath, [path.join(REPO, 'esbuild.mjs')], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
