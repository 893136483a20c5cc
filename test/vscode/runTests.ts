// `npm run test:vscode`: the extension-host suite in desktop VS Code, downloaded by
// @vscode/test-electron (where the internet is reachable; on this project's machines
// the same suite runs in code-server through `npm run test:e2e`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createTraceDb } = require('../../test/fixtures/traceforge.cjs') as { createTraceDb(p: string, o: object): Promise<void> };

async function main(): Promise<void> {
  const repo = path.resolve(__dirname, '..', '..');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-vscode-'));
  fs.mkdirSync(path.join(workspace, '.ai-tests'));
  await createTraceDb(path.join(workspace, '.ai-tests', 'traces.db'), { rows: 200, journalMode: 'delete' });
  fs.mkdirSync(path.join(workspace, 'packages', 'proxy', 'src'), { recursive: true });
  fs.writeFileSync(
    path.join(workspace, 'packages', 'proxy', 'src', 'storage-sqlite.ts'),
    "import Database from 'better-sqlite3';\n\nexport class SqliteStorage {\n  private db: Database.Database;\n\n  constructor(dbPath: string) {\n    this.db = new Database(dbPath);\n  }\n}\n",
  );
  fs.mkdirSync(path.join(workspace, '.vscode'));
  fs.writeFileSync(
    path.join(workspace, '.vscode', 'settings.json'),
    JSON.stringify({
      'tracedb.proxy.startCommand': `node ${JSON.stringify(path.join(repo, 'scripts', 'lib', 'standInProxy.cjs'))} .ai-tests/traces.db packages/proxy/logs/error.log --rate 20`,
      'tracedb.proxy.testCommand': 'node -e "process.exit(0)"',
    }),
  );
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
