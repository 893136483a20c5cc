// The runbook's repairs: Enable WAL, Kill Blocking Process, Checkpoint WAL and Back Up
// Database (trusted workspaces only: they change the database or stop a process), and the
// integrity check the fixes offer beside them (read-only, on a copy when it can).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../../shared/commandIds';
import * as proto from '../../shared/protocol';
import { SETTINGS } from '../../shared/settings';
import { backupBeforeRepair, enableWalTimeoutMs } from '../config';
import type { Ctx } from '../ctx';
import { requireTrust } from '../trust';
import { argsOf, pickEntry } from './target';

const t = vscode.l10n.t;

export async function enableWal(ctx: Ctx, arg: unknown): Promise<proto.EnableWalResult | undefined> {
  if (!(await requireTrust(t('Enable WAL')))) return;
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  const name = path.basename(entry.dbPath);
  const withBackup = backupBeforeRepair();
  if (!argsOf(arg).confirmed) {
    const go = t('Enable WAL');
    const detail = [
      t('Switches {0} to write-ahead logging, so readers and the proxy stop blocking each other (RUNBOOK-002 option 1).', name),
      t(
        "The proxy may keep running: the doctor retries between its commits, each try holding the lock for a few milliseconds, well inside the proxy's 5 s busy timeout. Only two header bytes change; no committed row is touched.",
      ),
      withBackup
        ? t('Then a backup goes to {0}, copied from a WAL snapshot: the proxy is not paused for it.', path.join(path.dirname(entry.dbPath), 'backups'))
        : t('No backup ({0} is off).', SETTINGS.backupBeforeRepair.key),
    ].join('\n\n');
    if ((await vscode.window.showWarningMessage(t('Enable WAL on {0}?', name), { modal: true, detail }, go)) !== go) return;
  }
  // Cancellable: the token reaches the server, which stops between attempts with the database unchanged.
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: t('Enabling WAL on {0}', name), cancellable: true },
    (progress, token) => {
      progress.report({ message: t('switching…') });
      return ctx.request(proto.enableWal, { dbPath: entry.dbPath, backup: withBackup, timeoutMs: enableWalTimeoutMs() }, progress, token);
    },
  );
  await ctx.check(entry).catch(() => undefined);
  if (result.ok) {
    if (result.backupError) void vscode.window.showWarningMessage(result.message);
    else void vscode.window.showInformationMessage(result.backupPath ? `${result.message} ${t('Backup: {0}', result.backupPath)}` : result.message);
    return result;
  }
  const kill = t('Kill Blocking Process');
  const restart = t('Restart Proxy');
  const choice = await vscode.window.showWarningMessage(result.message, ...(result.blockers.length ? [kill] : []), restart);
  if (choice === kill) await vscode.commands.executeCommand(COMMANDS.killBlocker, { dbPath: entry.dbPath, pid: result.blockers[0]?.pid });
  if (choice === restart) await vscode.commands.executeCommand(COMMANDS.restartProxy, { dbPath: entry.dbPath });
  return result;
}

export async function killBlocker(ctx: Ctx, arg: unknown): Promise<proto.KillResult | undefined> {
  if (!(await requireTrust(t('Kill Blocking Process')))) return;
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  const a = argsOf(arg);
  const given = a.pid ?? a.pids?.[0];
  if (given !== undefined && !(Number.isSafeInteger(given) && given > 1)) {
    void vscode.window.showErrorMessage(t('Kill Blocking Process takes the PID of a process that has the database open, not {0}.', String(given)));
    return;
  }
  const sample = await ctx.request(proto.holders, { dbPath: entry.dbPath });
  // The proxy is what the blocker blocks, never the blocker: stopping it is Restart Proxy's job.
  const isProxy = (h: proto.Holder) => h.kind === 'proxy' || h.kind === 'proxy-launcher';
  const killable = sample.holders.filter((h) => !h.self && !isProxy(h));
  let pid = given;
  if (pid === undefined) {
    const blockers = killable.filter((h) => h.blocker);
    if (!killable.length) {
      void vscode.window.showInformationMessage(t('No process other than the proxy has {0} open; nothing to kill.', path.basename(entry.dbPath)));
      return;
    }
    if (blockers.length === 1) pid = blockers[0].pid;
    else {
      const sorted = [...killable].sort((x, y) => Number(!!y.blocker) - Number(!!x.blocker) || y.locks.length - x.locks.length);
      const pick = await vscode.window.showQuickPick(
        sorted.map((h) => ({
          label: `${h.blocker ? '$(error)' : '$(terminal)'} PID ${h.pid}`,
          description: `${h.label}${h.blocker ? ` · ${t('blocking the proxy')}` : ''}${h.locks.length ? ` · ${h.locks.join(', ')}` : ''}`,
          detail: h.command,
          pid: h.pid,
        })),
        { placeHolder: t('Which process should stop?') },
      );
      if (!pick) return;
      pid = pick.pid;
    }
  }
  const h = sample.holders.find((x) => x.pid === pid);
  if (!h) {
    void vscode.window.showWarningMessage(t('PID {0} no longer has {1} open.', pid, path.basename(entry.dbPath)));
    return;
  }
  if (isProxy(h)) {
    const restart = t('Restart Proxy');
    const choice = await vscode.window.showWarningMessage(
      t('PID {0} is the proxy itself ({1}), not a blocker. Restart Proxy stops and starts it.', pid, h.label),
      restart,
    );
    if (choice === restart) await vscode.commands.executeCommand(COMMANDS.restartProxy, { dbPath: entry.dbPath });
    return;
  }
  const protectedPids = [process.pid, process.ppid];
  // Always asked, whoever runs the command (docs/DESIGN.md, Rules 4): no argument skips it.
  const term = t('Send SIGTERM');
  const detail = t(
    '{0}\n\nCommand: {1}\nLocks: {2}\n\nSIGTERM asks it to exit; SQLite rolls back its open transaction. Unsaved work in that process is lost.',
    h.label,
    h.command,
    h.locks.join(', ') || t('none (file open)'),
  );
  if ((await vscode.window.showWarningMessage(t('Stop PID {0}?', pid), { modal: true, detail }, term)) !== term) return;
  let result = await ctx.request(proto.kill, { dbPath: entry.dbPath, pid, signal: 'SIGTERM', protectedPids });
  if (result.stillAlive) {
    const force = t('Send SIGKILL');
    const again = await vscode.window.showWarningMessage(
      result.message,
      {
        modal: true,
        detail: t(
          'SIGKILL cannot be ignored. A write it was in the middle of leaves a hot journal, which SQLite rolls back on the next open; committed rows stay.',
        ),
      },
      force,
    );
    if (again === force) result = await ctx.request(proto.kill, { dbPath: entry.dbPath, pid, signal: 'SIGKILL', protectedPids });
  }
  void vscode.window.showInformationMessage(result.message);
  await ctx.check(entry).catch(() => undefined);
  return result;
}

export async function checkpoint(ctx: Ctx, arg: unknown): Promise<proto.CheckpointResult | undefined> {
  if (!(await requireTrust(t('Checkpoint WAL')))) return;
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'TRUNCATE', description: t('copy the WAL into the database and empty the -wal file (waits briefly for readers)'), mode: 'TRUNCATE' as const },
      { label: 'PASSIVE', description: t('copy what it can without waiting for anyone'), mode: 'PASSIVE' as const },
    ],
    { placeHolder: t('Checkpoint mode') },
  );
  if (!pick) return;
  const r = await ctx.request(proto.checkpoint, { dbPath: entry.dbPath, mode: pick.mode });
  if (r.ok) void vscode.window.showInformationMessage(r.message);
  else void vscode.window.showWarningMessage(r.message);
  await ctx.check(entry).catch(() => undefined);
  return r;
}

export async function backup(ctx: Ctx, arg: unknown): Promise<proto.BackupResult | undefined> {
  if (!(await requireTrust(t('Back Up Database')))) return;
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: t('Backing up {0}', path.basename(entry.dbPath)) },
    (progress) => ctx.request(proto.backup, { dbPath: entry.dbPath }, progress),
  );
  const reveal = t('Reveal in File Explorer');
  if ((await vscode.window.showInformationMessage(r.message, reveal)) === reveal)
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(r.path));
  return r;
}

export async function integrityCheck(ctx: Ctx, arg: unknown): Promise<proto.HealthReport | undefined> {
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: t('Running quick_check on {0}', path.basename(entry.dbPath)) },
    () => ctx.check(entry, { integrity: true }),
  );
  if (!r.integrity) void vscode.window.showWarningMessage(r.findings[0]?.message ?? t('The integrity check could not run.'));
  else if (r.integrity.ran === false)
    void vscode.window.showWarningMessage(t('The integrity check could not run: {0}', r.integrity.notRunReason ?? t('unknown reason')));
  else if (r.integrity.ok)
    void vscode.window.showInformationMessage(
      t('Integrity check passed ({0} ms{1}).', r.integrity.durationMs, r.integrity.onCopy ? t(', on a copy so the proxy was not blocked') : ''),
    );
  else void vscode.window.showErrorMessage(t('Integrity check FAILED: {0}', r.integrity.messages.slice(0, 3).join('; ')));
  return r;
}
