// `npm run test:vscode`: the extension-host suite in desktop VS Code, downloaded by
// @vscode/test-electron (where the internet is reachable; on this project's machines
// the same suite runs in code-server through `npm run test:e2e`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createTraceDb } = require('../../test/fixtures/traceforge.cjs') as { createTraceDb(p: string, o: object): Promise<void> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeStorageCode, writeProxyCommands } = require('../../test/fixtures/suiteWorkspace.cjs') as { writeStorageCode(root: string): void; writeProxyCommands(root: string, repo: string): void };

async function main(): Promise<void> {
  const repo = path.resolve(__dirname, '..', '..');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-vscode-'));
  fs.mkdirSync(path.join(workspace, '.ai-tests'));
  await createTraceDb(path.join(workspace, '.ai-tests', 'traces.db'), { rows: 200, journalMode: 'delete' });
  writeStorageCode(workspace);
  writeProxyCommands(workspace, repo);
  try {
    await runTests({
      extensionDevelopmentPath: repo,
      extensionTestsPath: path.join(repo, 'dist', 'test', 'suite.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`The extension-host tests failed: ${e}`);
  process.exit(1);
});
