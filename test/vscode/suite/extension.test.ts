// Runs inside the extension host of a real VS Code, on a fixture workspace whose trace
// DB is in rollback-journal mode. The same suite runs in desktop VS Code
// (@vscode/test-electron, `npm run test:vscode`) and in code-server (`npm run test:e2e`).
// TRACEDB_EXPECT_UNTRUSTED=1 marks the run in an untrusted (Restricted Mode) window.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../src/host/main';
import { COMMANDS } from '../../../src/shared/commandIds';

const EXTENSION_ID = 'traceforge.tracedb-doctor';
const untrusted = process.env.TRACEDB_EXPECT_UNTRUSTED === '1';

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where the real proxy keeps it: it runs in packages/proxy (test/fixtures/suiteWorkspace.cjs). */
function workspaceDb(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test opens a workspace folder');
  return path.join(folder.uri.fsPath, 'packages', 'proxy', '.ai-tests', 'traces.db');
}

/** A real process holding a write transaction (test/fixtures/actor.cjs), as a stuck script would. */
function holdWriteLock(db: string, repo: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(repo, 'test', 'fixtures', 'actor.cjs'), 'hold-write', db], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => /ready/.test(String(d)) && resolve(child));
    child.once('exit', (code) => reject(new Error(`actor exited ${code}`)));
  });
}

/** The doctor server: this extension host's child running dist/server.js. */
function doctorServerPid(): number | undefined {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('server.js')) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('Trace DB Doctor in VS Code', function () {
  let api: TestApi;
  let repo: string;

  before(async () => {
    const ext = vscode.extensions.getExtension<TestApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    // dist/test/suite.js lives in the repo, whatever folder the extension itself was loaded from.
    repo = path.resolve(__dirname, '..', '..');
    assert.ok(fs.existsSync(path.join(repo, 'test', 'fixtures', 'actor.cjs')), `test fixtures under ${repo}`);
    api = await ext.activate();
    await api.ready;
  });

  it('activates on the workspace, finds the DB in packages/proxy as the proxy does, and reports it as not WAL in the status bar', async () => {
    await waitFor('a report', () => api.ctx.store.all()[0]?.report);
    assert.equal(api.ctx.store.all()[0].dbPath, workspaceDb());
    assert.equal(api.ctx.store.all()[0].chosenBy, 'discovered');
    await waitFor('warning status', () => api.statusBar.level === 'warning');
    assert.match(api.statusBar.text, /traces\.db: not WAL/);
  });

  it('the health tree lists the runbook sections and the not-wal finding', async () => {
    const roots = api.tree.getChildren();
    const labels = roots.map((n) => api.tree.getTreeItem(n).label);
    assert.deepEqual(labels.slice(0, 5), ['Problems', 'Database', 'Files', 'Locks now', 'Processes with the DB open']);
    const problems = api.tree.getChildren(roots[0]).map((n) => api.tree.getTreeItem(n));
    assert.ok(problems.some((p) => /not WAL/.test(String(p.label)) && /fix:enableWal/.test(p.contextValue ?? '')));
  });

  it('shows a lock held by a child process, with its PID, and clears it when the child exits', async () => {
    const child = await holdWriteLock(workspaceDb(), repo);
    try {
      await waitFor('the lock in the report', () => api.ctx.store.all()[0].report?.locks.some((l) => l.pid === child.pid && l.lock === 'RESERVED'), 10000);
      // Held across two polls: stuck, an error naming the PID.
      await waitFor('error status naming the PID', () => api.statusBar.level === 'error' && api.statusBar.text.includes(String(child.pid)));
    } finally {
      child.stdin!.end();
    }
    await waitFor('lock cleared', () => api.ctx.store.all()[0].report?.locks.length === 0, 10000);
  });

  it('commands act only on watched databases, whatever a caller passes', async () => {
    const elsewhere = path.join(path.dirname(workspaceDb()), '..', '..', '..', 'not-watched.db');
    fs.copyFileSync(workspaceDb(), elsewhere);
    try {
      assert.equal(await vscode.commands.executeCommand(COMMANDS.openExplorer, { dbPath: elsewhere }), undefined, 'no explorer on an unwatched file');
      assert.equal(await vscode.commands.executeCommand(COMMANDS.checkHealth, { dbPath: elsewhere }), undefined);
      const open = async (db: string) =>
        (await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'tracedb', path: '/x.json', query: `db=${encodeURIComponent(db)}` }))).getText();
      assert.match(await open(elsewhere), /is not a trace database this workspace watches/, 'a tracedb: link names an arbitrary file');
      assert.match(await open(workspaceDb()), /No trace x in/, 'the watched one is read');
    } finally {
      fs.rmSync(elsewhere, { force: true });
    }
  });

  it('after the doctor server dies, the restarted server watches the database again', async function () {
    this.timeout(60000);
    const serverPid = await waitFor('the doctor server process', () => doctorServerPid());
    process.kill(serverPid, 'SIGKILL');
    await waitFor(
      'a new doctor server',
      () => {
        const pid = doctorServerPid();
        return pid !== undefined && pid !== serverPid && pid;
      },
      30000,
    );
    const child = await holdWriteLock(workspaceDb(), repo);
    try {
      await waitFor('the new server reports the lock', () => api.ctx.store.all()[0].report?.locks.some((l) => l.pid === child.pid), 20000);
    } finally {
      child.stdin!.end();
    }
    await waitFor('lock cleared', () => api.ctx.store.all()[0].report?.locks.length === 0, 20000);
  });

  if (untrusted) {
    it('in Restricted Mode: health is visible, Enable WAL refuses and the DB stays as it was', async () => {
      assert.equal(vscode.workspace.isTrusted, false);
      assert.ok(api.ctx.store.all()[0].report, 'health still shown');
      void vscode.commands.executeCommand(COMMANDS.enableWal, { confirmed: true });
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(fs.readFileSync(workspaceDb())[18], 1, 'still a rollback-journal DB');
    });
  } else {
    it('Enable WAL turns the status healthy and the DB file reads WAL', async () => {
      assert.equal(vscode.workspace.isTrusted, true);
      await vscode.commands.executeCommand(COMMANDS.enableWal, { confirmed: true });
      await waitFor('healthy status', () => api.statusBar.level === 'ok');
      assert.match(api.statusBar.text, /traces\.db · WAL/);
      assert.equal(fs.readFileSync(workspaceDb())[18], 2, 'header byte 18 says WAL');
    });

    it('Restart Proxy runs the configured command as a task, then reports whether locks and lock errors are gone', async function () {
      this.timeout(90000);
      const before = vscode.tasks.taskExecutions.length;
      const verdict = await vscode.commands.executeCommand<string>(COMMANDS.restartProxy, { confirmed: true });
      assert.equal(typeof verdict, 'string', 'the command returns its verdict');
      assert.match(verdict, /no stuck lock and no new "database is locked"/);
      const report = api.ctx.store.all()[0].report!;
      assert.ok(
        report.holders.some((h) => h.kind === 'proxy' && h.label === 'TraceForge proxy'),
        `the proxy runs: ${JSON.stringify(report.holders)}`,
      );
      // Its stdout is kept where the doctor reads the log (the proxy itself logs only to stdout).
      const keptLog = path.join(path.dirname(path.dirname(workspaceDb())), 'logs', 'proxy.log');
      await waitFor('the kept log', () => fs.existsSync(keptLog) && /stand-in proxy/.test(fs.readFileSync(keptLog, 'utf8')));
      // A second restart stops the running proxy first: one proxy afterwards, not two.
      const again = await vscode.commands.executeCommand<string>(COMMANDS.restartProxy, { confirmed: true });
      assert.match(again, /no stuck lock/);
      const proxies = api.ctx.store.all()[0].report!.holders.filter((h) => h.kind === 'proxy');
      assert.equal(proxies.length, 1, JSON.stringify(proxies));
      assert.ok(vscode.tasks.taskExecutions.length > before);
      for (const e of vscode.tasks.taskExecutions) e.terminate();
    });

    it('Run Verification: WAL active, the proxy test passes, concurrent writers see no busy error', async function () {
      this.timeout(90000);
      const outcome = await vscode.commands.executeCommand<{
        walActive: boolean;
        proxyTestExit?: number;
        concurrency?: { ok: boolean; busyErrors: number; commits: number };
      }>(COMMANDS.runVerification);
      assert.equal(outcome.walActive, true);
      assert.equal(outcome.proxyTestExit, 0);
      assert.equal(outcome.concurrency?.ok, true);
      assert.equal(outcome.concurrency?.busyErrors, 0);
      assert.ok((outcome.concurrency?.commits ?? 0) > 0);
    });

    it('storage code: diagnostics from the language server, then Apply Long-term Fix edits the real file', async function () {
      this.timeout(60000);
      const folder = vscode.workspace.workspaceFolders![0].uri;
      const uri = vscode.Uri.joinPath(folder, 'packages', 'proxy', 'src', 'storage-sqlite.ts');
      const ours = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Trace DB Doctor');
      const before = await waitFor('storage diagnostics', () => ours().length > 0 && ours());
      assert.ok(
        before.some((d) => d.code === 'no-wal'),
        JSON.stringify(before.map((d) => d.code)),
      );
      const edits = await vscode.commands.executeCommand<number>(COMMANDS.longTermFix);
      assert.ok(edits > 0);
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.match(doc.getText(), /this\.db\.pragma\('journal_mode = WAL'\);\n\s+this\.db\.pragma\('busy_timeout = 5000'\);/);
      await waitFor('diagnostics gone', () => ours().length === 0);
      await vscode.commands.executeCommand('undo');
      await waitFor('undo brings them back', () => ours().length > 0);
      await doc.save();
    });

    it('Copy Diagnostic Report puts a markdown report on the clipboard', async () => {
      await vscode.commands.executeCommand(COMMANDS.copyReport);
      const text = await vscode.env.clipboard.readText();
      assert.match(text, /## Trace DB Doctor report/);
      assert.match(text, /Journal mode: wal/);
    });
  }
});
