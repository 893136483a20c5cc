// The runbook steps that run the proxy's own commands: restart it (then watch whether
// the locks and lock errors are gone: fix and verify in one action), and the
// verification (WAL active, the proxy's storage test, a concurrent-write check).
// Both run in trusted workspaces only (the caller checks), as VS Code tasks the user sees.
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as proto from '../../shared/protocol';
import { SETTINGS } from '../../shared/settings';
import { keepProxyLog, proxyStartCommand, proxyTestCommand } from '../config';
import type { Ctx } from '../ctx';
import type { DbEntry } from '../health/dbEntry';

const t = vscode.l10n.t;
const WATCH_AFTER_RESTART_MS = 15000;
const TEST_TASK_NAME = () => t('Proxy storage test');

function folderOf(entry: DbEntry): vscode.WorkspaceFolder | undefined {
  return entry.folderUri ? vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(entry.folderUri)) : vscode.workspace.workspaceFolders?.[0];
}

function proxyTask(
  folder: vscode.WorkspaceFolder,
  action: 'startProxy' | 'testProxy',
  command: string,
  background: boolean,
  env?: Record<string, string>,
): vscode.Task {
  const task = new vscode.Task(
    { type: 'tracedb', action },
    folder,
    action === 'startProxy' ? t('Start proxy') : TEST_TASK_NAME(),
    'Trace DB',
    new vscode.ShellExecution(command, { cwd: folder.uri.fsPath, ...(env ? { env } : {}) }),
  );
  task.isBackground = background;
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
  return task;
}

/** Resolves with the exit code of the task's process (undefined if it did not start). */
function exitCodeOf(execution: vscode.TaskExecution): Promise<number | undefined> {
  return new Promise((resolve) => {
    const subs = [
      vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution === execution) {
          subs.forEach((s) => s.dispose());
          resolve(e.exitCode);
        }
      }),
      vscode.tasks.onDidEndTask((e) => {
        if (e.execution === execution) {
          subs.forEach((s) => s.dispose());
          resolve(undefined);
        }
      }),
    ];
  });
}

/**
 * Ends this folder's earlier Restart Proxy tasks (their proxy is stopped by now, their shell
 * and tee may linger): VS Code will not start a task while the same one is still active.
 */
async function endEarlierStarts(folder: vscode.WorkspaceFolder): Promise<void> {
  const earlier = vscode.tasks.taskExecutions.filter(
    (x) => x.task.definition.type === 'tracedb' && x.task.definition.action === 'startProxy' && x.task.scope === folder,
  );
  if (!earlier.length) return;
  const ended = Promise.all(earlier.map((x) => Promise.race([exitCodeOf(x), new Promise((r) => setTimeout(r, 5000))])));
  for (const x of earlier) x.terminate();
  await ended;
}

export async function restartProxy(ctx: Ctx, entry: DbEntry, confirmed: boolean): Promise<string | undefined> {
  const folder = folderOf(entry);
  if (!folder) return;
  const launch = await ctx.request(proto.proxyLaunch, {
    root: folder.uri.fsPath,
    dbPath: entry.dbPath,
    custom: proxyStartCommand(folder.uri),
    keepLog: keepProxyLog(folder.uri),
  });
  if (!launch.command) {
    const open = t('Open Settings');
    if ((await vscode.window.showWarningMessage(launch.reason, open)) === open)
      await vscode.commands.executeCommand('workbench.action.openSettings', SETTINGS.proxyStartCommand.key);
    return;
  }
  const before = entry.report;
  const sample = await ctx.request(proto.holders, { dbPath: entry.dbPath });
  const proxies = sample.holders.filter((h) => h.kind === 'proxy');
  const blockers = sample.holders.filter((h) => h.blocker);
  if (!confirmed) {
    const go = t('Restart Proxy');
    const detail = [
      proxies.length
        ? t('Stops (SIGTERM, with its launcher):\n{0}', proxies.map((h) => `PID ${h.pid} ${h.label}: ${h.command}`).join('\n'))
        : t('No proxy process has the database open.'),
      t('Then runs: {0}\n{1}', launch.command, launch.reason),
      ...(launch.env && Object.keys(launch.env).length ? [t("Keeps the running proxy's settings: {0}", Object.keys(launch.env).join(', '))] : []),
      ...(blockers.length ? [t('Not touched: {0}. Kill Blocking Process stops it.', blockers.map((h) => `PID ${h.pid} (${h.label})`).join(', '))] : []),
    ].join('\n\n');
    if ((await vscode.window.showWarningMessage(t('Restart the proxy that writes {0}?', path.basename(entry.dbPath)), { modal: true, detail }, go)) !== go)
      return;
  }
  if (proxies.length) {
    const stopped = await ctx.request(proto.stopProxy, { dbPath: entry.dbPath, protectedPids: [process.pid, process.ppid] });
    ctx.log.info(`Restart Proxy: ${stopped.message}`);
    if (stopped.stopped.some((s) => !s.exited)) {
      void vscode.window.showWarningMessage(t('The proxy did not stop, so no second one was started: {0}', stopped.message));
      return stopped.message;
    }
  }
  await endEarlierStarts(folder);
  await vscode.tasks.executeTask(proxyTask(folder, 'startProxy', launch.command, true, launch.env));
  ctx.log.info(`Restart Proxy: started "${launch.command}" in ${folder.uri.fsPath} (${launch.reason})`);

  // Verify: watch what the server pushes for a while; no stuck lock and no new lock error means fixed.
  const errorsBefore = before?.log?.lockErrors ?? 0;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: t('Proxy started; watching the database for {0} s', WATCH_AFTER_RESTART_MS / 1000) },
    async () => {
      await new Promise((r) => setTimeout(r, WATCH_AFTER_RESTART_MS));
      const now = await ctx.check(entry);
      const newErrors = (now.log?.lockErrors ?? 0) - errorsBefore;
      const stuck = now.findings.filter((f) => f.code === 'stuck-writer' || f.code === 'long-reader');
      const message =
        stuck.length || newErrors > 0
          ? t('After the restart: {0}{1}', stuck.map((f) => f.title).join('; '), newErrors > 0 ? t(' {0} new "database is locked" in the log.', newErrors) : '')
          : t('After the restart: no stuck lock and no new "database is locked" in {0} s.', WATCH_AFTER_RESTART_MS / 1000);
      if (stuck.length || newErrors > 0) void vscode.window.showWarningMessage(message);
      else void vscode.window.showInformationMessage(message);
      return message;
    },
  );
}

export interface VerificationOutcome {
  walActive: boolean;
  proxyTestExit?: number;
  concurrency?: proto.ConcurrencyResult;
}

export async function runVerification(ctx: Ctx, entry: DbEntry): Promise<VerificationOutcome | undefined> {
  const folder = folderOf(entry);
  if (!folder) return;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('RUNBOOK-002 verification') }, async (progress) => {
    progress.report({ message: t('1/3 WAL active? (fresh connection)') });
    const report = await ctx.check(entry);
    const walActive = report.journalMode === 'wal';

    progress.report({ message: t("2/3 the proxy's storage test") });
    const execution = await vscode.tasks.executeTask(proxyTask(folder, 'testProxy', proxyTestCommand(folder.uri), false));
    const proxyTestExit = await exitCodeOf(execution);

    progress.report({ message: t('3/3 concurrent writers on a copy') });
    const concurrency = await ctx.request(proto.verifyConcurrency, { dbPath: entry.dbPath, writers: 4, seconds: 5 }, progress);

    const lines = [
      walActive ? t('✔ WAL is active.') : t('✘ Journal mode is {0}, not WAL.', report.journalMode),
      proxyTestExit === 0
        ? t("✔ The proxy's storage test passed.")
        : t("✘ The proxy's storage test exited {0} (see its terminal).", proxyTestExit ?? t('without starting')),
      `${concurrency.ok ? '✔' : '✘'} ${concurrency.message}`,
    ];
    for (const l of lines) ctx.log.info(`Verification: ${l}`);
    const allOk = walActive && proxyTestExit === 0 && concurrency.ok;
    const show = allOk ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    // A failed test step is read in its terminal, where its output is; the rest in the log.
    const terminal = t('Show Terminal');
    const open = t('Open Output');
    const buttons = proxyTestExit === 0 ? [open] : [terminal, open];
    void show(lines.join('  '), ...buttons).then((c) => {
      if (c === open) ctx.log.show();
      if (c === terminal) vscode.window.terminals.find((term) => term.name.includes(TEST_TASK_NAME()))?.show();
    });
    return { walActive, proxyTestExit, concurrency };
  });
}
