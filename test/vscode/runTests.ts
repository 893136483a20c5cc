// `npm run test:vscode`: the extension-host suite in desktop VS Code, downloaded by
// @vscode/test-electron (where the internet is reachable; on this project's machines
// the same suite runs in code-server through `npm run test:e2e`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeSuiteWorkspace } = require('../fixtures/suiteWorkspace.cjs') as {
  writeSuiteWorkspace(root: string, repo: string, opts: { rows: number; proxyCommands: boolean }): Promise<unknown>;
};

async function main(): Promise<void> {
  const repo = path.resolve(__dirname, '..', '..');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-vscode-'));
  await writeSuiteWorkspace(workspace, repo, { rows: 200, proxyCommands: true });
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
