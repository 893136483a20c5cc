// Every "Trace DB:" command, as factories of (ctx) => handler in one table (rust-analyzer's
// pattern). A command's argument is a health-tree node, a CommandArgs object (from the
// fix picker, a notification button, or a test), or nothing (the palette).
import * as path from 'node:path';
import * as vscode from 'vscode';
import * as proto from '../../shared/protocol';
import { backupBeforeRepair, enableWalTimeoutMs } from '../config';
import type { Ctx } from '../ctx';
import { targetOfNode } from '../health/healthTree';
import { candidateDescription, fixChoices, type DbEntry } from '../health/presentation';
import { ExplorerPanel } from '../explorer/explorerPanel';
import { restartProxy, runVerification } from './proxyTasks';
import { applyStorageFix } from '../storageFix';
import { requireTrust } from '../trust';

const t = vscode.l10n.t;

/** Arguments a command takes from code (fix picker, notifications, tests). */
export interface CommandArgs {
  dbPath?: string;
  pid?: number;
  /**
   * Skip the confirmation dialog of Enable WAL and Restart Proxy: for automated tests
   * driving them, never set from the UI. Kill always asks: any extension can run a command.
   */
  confirmed?: boolean;
}

type Handler = (arg?: unknown) => Promise<unknown>;
type Factory = (ctx: Ctx) => Handler;

function argsOf(arg: unknown): CommandArgs & { pids?: number[] } {
  const fromNode = targetOfNode(arg);
  if (fromNode) return fromNode;
  return arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? (arg as CommandArgs) : {};
}

/** The database a command acts on: the one given, the only one, or the user's pick. */
export async function pickEntry(ctx: Ctx, arg: unknown): Promise<DbEntry | undefined> {
  const a = argsOf(arg);
  // The palette lists every command from the first second; one run before the server's
  // first report waits for it rather than acting on nothing.
  if (!ctx.store.reported()) await ctx.whenReported();
  const all = ctx.store.all();
  if (a.dbPath !== undefined) {
    // Any extension can run our commands: only a database the doctor watches is acted on,
    // never a path a caller made up.
    const watched = typeof a.dbPath === 'string' && path.isAbsolute(a.dbPath) ? ctx.store.byDbPath(path.resolve(a.dbPath)) : undefined;
    if (!watched) void vscode.window.showErrorMessage(t('Trace DB Doctor acts only on the trace databases it watches in this workspace; {0} is not one of them. Use "Trace DB: Choose Database File…" to watch it.', String(a.dbPath)));
    return watched;
  }
  const present = all.filter((e) => e.report?.unreachableReason !== 'missing');
  const candidates = present.length ? present : all;
  if (candidates.length <= 1) {
    if (!candidates.length) void vscode.window.showWarningMessage(t('No trace database in this workspace. Use "Trace DB: Choose Database File…".'));
    return candidates[0];
  }
  const pick = await vscode.window.showQuickPick(
    candidates.map((e) => ({ label: e.folderName, description: e.dbPath, entry: e })),
    { placeHolder: t('Which workspace folder\'s trace database?') },
  );
  return pick?.entry;
}

/** Runs a command body; errors become messages, never silent failures. */
function guarded(ctx: Ctx, fn: Handler): Handler {
  return async (arg) => {
    try {
      return await fn(arg);
    } catch (e) {
      await ctx.showError(e);
      return undefined;
    }
  };
}

async function fullCheck(ctx: Ctx, e: DbEntry, extra: Partial<proto.HealthParams> = {}): Promise<proto.HealthReport> {
  const report = await ctx.request(proto.health, { dbPath: e.dbPath, logPath: e.logPath, mode: 'full', ...extra });
  ctx.store.update(e.folderUri, report);
  return report;
}

const enableWal: Factory = (ctx) => async (arg) => {
  if (!(await requireTrust(t('Enable WAL')))) return;
  const e = await pickEntry(ctx, arg);
  if (!e) return;
  const name = path.basename(e.dbPath);
  const backup = backupBeforeRepair();
  if (!argsOf(arg).confirmed) {
    const go = t('Enable WAL');
    const detail = [
      t('Switches {0} to write-ahead logging, so readers and the proxy stop blocking each other (RUNBOOK-002 option 1).', name),
      t('The proxy may keep running: the doctor retries between its commits, each try holding the lock for a few milliseconds, well inside the proxy\'s 5 s busy timeout. Only two header bytes change; no committed row is touched.'),
      backup
        ? t('Then a backup goes to {0}, copied from a WAL snapshot: the proxy is not paused for it.', path.join(path.dirname(e.dbPath), 'backups'))
        : t('No backup (tracedb.backupBeforeRepair is off).'),
    ].join('\n\n');
    if ((await vscode.window.showWarningMessage(t('Enable WAL on {0}?', name), { modal: true, detail }, go)) !== go) return;
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: t('Enabling WAL on {0}', name), cancellable: true },
    (progress, token) => {
      progress.report({ message: t('switching…') });
      return ctx.request(proto.enableWal, { dbPath: e.dbPath, backup, timeoutMs: enableWalTimeoutMs() }, progress, token);
    },
  );
  await fullCheck(ctx, e).catch(() => undefined);
  if (result.ok) {
    if (result.backupError) void vscode.window.showWarningMessage(result.message);
    else void vscode.window.showInformationMessage(result.backupPath ? `${result.message} ${t('Backup: {0}', result.backupPath)}` : result.message);
    return result;
  }
  const kill = t('Kill Blocking Process');
  const restart = t('Restart Proxy');
  const choice = await vscode.window.showWarningMessage(result.message, ...(result.blockers.length ? [kill] : []), restart);
  if (choice === kill) await vscode.commands.executeCommand('tracedb.killBlocker', { dbPath: e.dbPath, pid: result.blockers[0]?.pid });
  if (choice === restart) await vscode.commands.executeCommand('tracedb.restartProxy', { dbPath: e.dbPath });
  return result;
};

const checkHealth: Factory = (ctx) => async (arg) => {
  const a = argsOf(arg);
  if (!ctx.store.reported()) await ctx.whenReported();
  const entries = (a.dbPath ? [await pickEntry(ctx, arg)] : ctx.store.all()).filter((e): e is DbEntry => !!e);
  // Refused (not a watched database) or nothing to check: pickEntry has said why.
  if (!entries.length) return undefined;
  const reports = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Checking trace database health…') }, () =>
    Promise.all(entries.map((e) => fullCheck(ctx, e))),
  );
  // A visible answer, not only a log line: the verdict and the worst problem.
  const lines = reports.map((r) => {
    const name = path.basename(r.path);
    const problems = r.findings.filter((f) => f.severity !== 'info');
    if (!r.reachable) return r.findings[0]?.title ?? t('{0} cannot be read', name);
    if (!problems.length) return t('{0} is healthy: {1}{2}.', name, r.journalMode === 'wal' ? 'WAL' : r.journalMode, r.traceCount ? t(', ≈ {0} traces', r.traceCount.value.toLocaleString('en-US')) : '');
    return t('{0}: {1} problem(s): {2}', name, problems.length, problems[0].title);
  });
  const healthy = reports.every((r) => r.healthy);
  if (healthy) void vscode.window.showInformationMessage(lines.join(' · '));
  else {
    const fixes = t('Show Fixes');
    void vscode.window.showWarningMessage(lines.join(' · '), fixes).then((c) => c === fixes && vscode.commands.executeCommand('tracedb.showFixes'));
  }
  return reports;
};

const countTraces: Factory = (ctx) => async (arg) => {
  const e = await pickEntry(ctx, arg);
  if (!e) return;
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Counting traces (COUNT(*))…') }, () => fullCheck(ctx, e, { countExact: true }));
  if (r.traceCount) void vscode.window.showInformationMessage(t('{0} holds {1} traces (exact count).', path.basename(e.dbPath), r.traceCount.value.toLocaleString()));
  else void vscode.window.showWarningMessage(r.findings[0]?.message ?? t('Could not count traces.'));
  return r;
};

const integrityCheck: Factory = (ctx) => async (arg) => {
  const e = await pickEntry(ctx, arg);
  if (!e) return;
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Running quick_check on {0}', path.basename(e.dbPath)) }, () =>
    fullCheck(ctx, e, { integrity: true }),
  );
  if (!r.integrity) void vscode.window.showWarningMessage(r.findings[0]?.message ?? t('The integrity check could not run.'));
  else if (r.integrity.ran === false) void vscode.window.showWarningMessage(t('The integrity check could not run: {0}', r.integrity.notRunReason ?? t('unknown reason')));
  else if (r.integrity.ok) void vscode.window.showInformationMessage(t('Integrity check passed ({0} ms{1}).', r.integrity.durationMs, r.integrity.onCopy ? t(', on a copy so the proxy was not blocked') : ''));
  else void vscode.window.showErrorMessage(t('Integrity check FAILED: {0}', r.integrity.messages.slice(0, 3).join('; ')));
  return r;
};

const showHolders: Factory = (ctx) => async (arg) => {
  const e = await pickEntry(ctx, arg);
  if (!e) return;
  const sample = await ctx.request(proto.holders, { dbPath: e.dbPath });
  if (!sample.holders.length) {
    void vscode.window.showInformationMessage(sample.note ?? t('No process has {0} open.', path.basename(e.dbPath)));
    return sample;
  }
  const pick = await vscode.window.showQuickPick(
    sample.holders.map((h) => ({
      label: `$(${h.self ? 'pulse' : h.blocker ? 'error' : h.locks.length ? 'lock' : 'terminal'}) PID ${h.pid}`,
      description: `${h.label}${h.blocker ? ` · ${t('blocking the proxy')}` : ''}${h.locks.length ? ` · ${h.locks.join(', ')}` : ''}`,
      detail: h.command,
      holder: h,
    })),
    { placeHolder: t('Processes with {0} open', path.basename(e.dbPath)), matchOnDetail: true },
  );
  // Showing is not killing: a pick offers the stop, it never stops by itself.
  if (pick && !pick.holder.self && pick.holder.kind !== 'proxy' && pick.holder.kind !== 'proxy-launcher') {
    const kill = t('Kill Blocking Process');
    if ((await vscode.window.showInformationMessage(`PID ${pick.holder.pid} ${pick.holder.label}: ${pick.holder.command}`, kill)) === kill) {
      await vscode.commands.executeCommand('tracedb.killBlocker', { dbPath: e.dbPath, pid: pick.holder.pid });
    }
  }
  return sample;
};

const killBlocker: Factory = (ctx) => async (arg) => {
  if (!(await requireTrust(t('Kill Blocking Process')))) return;
  const e = await pickEntry(ctx, arg);
  if (!e) return;
  const a = argsOf(arg);
  const given = a.pid ?? a.pids?.[0];
  if (given !== undefined && !(Number.isSafeInteger(given) && given > 1)) {
    void vscode.window.showErrorMessage(t('Kill Blocking Process takes the PID of a process that has the database open, not {0}.', String(given)));
    return;
  }
  const sample = await ctx.request(proto.holders, { dbPath: e.dbPath });
  // The proxy is what the blocker blocks, never the blocker: stopping it is Restart Proxy's job.
  const isProxy = (h: proto.Holder) => h.kind === 'proxy' || h.kind === 'proxy-launcher';
  const killable = sample.holders.filter((h) => !h.self && !isProxy(h));
  let pid = given;
  if (pid === undefined) {
    const blockers = killable.filter((h) => h.blocker);
    if (!killable.length) {
      void vscode.window.showInformationMessage(t('No process other than the proxy has {0} open; nothing to kill.', path.basename(e.dbPath)));
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
    void vscode.window.showWarningMessage(t('PID {0} no longer has {1} open.', pid, path.basename(e.dbPath)));
    return;
  }
  if (isProxy(h)) {
    const restart = t('Restart Proxy');
    const choice = await vscode.window.showWarningMessage(t('PID {0} is the proxy itself ({1}), not a blocker. Restart Proxy stops and starts it.', pid, h.label), restart);
    if (choice === restart) await vscode.commands.executeCommand('tracedb.restartProxy', { dbPath: e.dbPath });
    return;
  }
  const protectedPids = [process.pid, process.ppid];
  // Always asked, whoever runs the command (DESIGN.md § Rules 4): no argument skips it.
  const term = t('Send SIGTERM');
  const detail = t('{0}\n\nCommand: {1}\nLocks: {2}\n\nSIGTERM asks it to exit; SQLite rolls back its open transaction. Unsaved work in that process is lost.', h.label, h.command, h.locks.join(', ') || t('none (file open)'));
  if ((await vscode.window.showWarningMessage(t('Stop PID {0}?', pid), { modal: true, detail }, term)) !== term) return;
  let result = await ctx.request(proto.kill, { dbPath: e.dbPath, pid, signal: 'SIGTERM', protectedPids });
  if (result.stillAlive) {
    const force = t('Send SIGKILL');
    const again = await vscode.window.showWarningMessage(
      result.message,
      { modal: true, detail: t('SIGKILL cannot be ignored. A write it was in the middle of leaves a hot journal, which SQLite rolls back on the next open; committed rows stay.') },
      force,
    );
    if (again === force) result = await ctx.request(proto.kill, { dbPath: e.dbPath, pid, signal: 'SIGKILL', protectedPids });
  }
  void vscode.window.showInformationMessage(result.message);
  await fullCheck(ctx, e).catch(() => undefined);
  return result;
};

const checkpoint: Factory = (ctx) => async (arg) => {
  if (!(await requireTrust(t('Checkpoint WAL')))) return;
  const e = await pickEntry(ctx, arg);
  if (!e) return;
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'TRUNCATE', description: t('copy the WAL into the database and empty the -wal file (waits briefly for readers)'), mode: 'TRUNCATE' as const },
      { label: 'PASSIVE', description: t('copy what it can without waiting for anyone'), mode: 'PASSIVE' as const },
    ],
    { placeHolder: t('Checkpoint mode') },
  );
  if (!pick) return;
  const r = await ctx.request(proto.checkpoint, { dbPath: e.dbPath, mode: pick.mode });
  if (r.ok) void vscode.window.showInformationMessage(r.message);
  else void vscode.window.showWarningMessage(r.message);
  await fullCheck(ctx, e).catch(() => undefined);
  return r;
};

const backup: Factory = (ctx) => async (arg) => {
  if (!(await requireTrust(t('Back Up Database')))) return;
  const e = await pickEntry(ctx, arg);
  if (!e) return;
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Backing up {0}', path.basename(e.dbPath)) }, (progress) =>
    ctx.request(proto.backup, { dbPath: e.dbPath }, progress),
  );
  const reveal = t('Reveal in File Explorer');
  if ((await vscode.window.showInformationMessage(r.message, reveal)) === reveal) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(r.path));
  return r;
};

const copyReport: Factory = (ctx) => async (arg) => {
  const entries = argsOf(arg).dbPath ? [await pickEntry(ctx, arg)] : ctx.store.all();
  const parts: string[] = [];
  for (const e of entries) {
    if (!e) continue;
    const r = await ctx.request(proto.report, { dbPath: e.dbPath, logPath: e.logPath });
    ctx.store.update(e.folderUri, r.report);
    parts.push(r.markdown);
  }
  if (!parts.length) return;
  const text = parts.join('\n---\n\n');
  await vscode.env.clipboard.writeText(text);
  void vscode.window.showInformationMessage(t('Diagnostic report copied to the clipboard ({0} lines).', text.split('\n').length));
  return text;
};

const openLog: Factory = (ctx) => async (arg) => {
  const e = await pickEntry(ctx, arg);
  if (!e?.logPath) return;
  const uri = vscode.Uri.file(e.logPath);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    void vscode.window.showWarningMessage(t('No proxy log at {0}. Set tracedb.logPath if it lives elsewhere.', e.logPath));
    return;
  }
  const line = Math.max(0, (e.report?.log?.firstLine ?? 1) - 1);
  const editor = await vscode.window.showTextDocument(uri, { preview: true, selection: new vscode.Range(line, 0, line, 0) });
  editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.InCenter);
};

const showFixes: Factory = (ctx) => async () => {
  type Item = vscode.QuickPickItem & { run?: () => Thenable<unknown> };
  const items: Item[] = [];
  let group: string | undefined;
  for (const c of fixChoices(ctx.store.all())) {
    // One separator per finding: the reason is said once, not on every row.
    if (c.reason !== group) items.push({ label: (group = c.reason), kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: `$(${c.icon}) ${c.title}`, run: () => vscode.commands.executeCommand(`tracedb.${c.fix}`, { dbPath: c.entry.dbPath }) });
  }
  const fixes = items.length;
  items.push(
    { label: t('More'), kind: vscode.QuickPickItemKind.Separator },
    { label: `$(refresh) ${t('Check Health')}`, run: () => vscode.commands.executeCommand('tracedb.checkHealth') },
    { label: `$(list-flat) ${t('Open Trace Explorer')}`, run: () => vscode.commands.executeCommand('tracedb.openExplorer') },
    { label: `$(copy) ${t('Copy Diagnostic Report')}`, run: () => vscode.commands.executeCommand('tracedb.copyReport') },
  );
  const pick = await vscode.window.showQuickPick(items, { placeHolder: fixes ? t('Fixes for the trace database') : t('No problems found') });
  return pick?.run?.();
};

/**
 * Picks the folder's trace DB among the ones found (the running proxy's first), or any
 * file; the choice is remembered per folder. tracedb.databasePath, when set, still wins.
 */
const chooseDatabase: Factory = (ctx) => async (arg) => {
  const given = arg && typeof arg === 'object' && 'candidate' in arg ? (arg as { candidate: { folderUri: string; dbPath: string } }).candidate : undefined;
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  const folder = given
    ? folders.find((f) => f.uri.toString() === given.folderUri)
    : folders.length === 1
      ? folders[0]
      : await vscode.window.showWorkspaceFolderPick();
  if (!folder) return;
  let dbPath = given?.dbPath;
  if (!dbPath) {
    const entry = ctx.store.all().find((e) => e.folderUri === folder.uri.toString());
    const browse = { label: `$(folder-opened) ${t('Browse…')}`, dbPath: undefined as string | undefined };
    const items = (entry?.candidates ?? []).map((c) => ({
      label: `${c.dbPath === entry?.dbPath ? '$(check)' : '$(database)'} ${path.relative(folder.uri.fsPath, c.dbPath) || c.dbPath}`,
      description: candidateDescription(c),
      dbPath: c.dbPath as string | undefined,
    }));
    const pick = await vscode.window.showQuickPick([...items, browse], { placeHolder: t('Which trace database does the proxy in {0} use?', folder.name) });
    if (!pick) return;
    dbPath = pick.dbPath;
    if (!dbPath) {
      const picked = await vscode.window.showOpenDialog({
        defaultUri: folder.uri,
        canSelectMany: false,
        openLabel: t('Use as Trace Database'),
        filters: { [t('SQLite databases')]: ['db', 'sqlite', 'sqlite3'], [t('All files')]: ['*'] },
      });
      if (!picked?.[0]) return;
      dbPath = picked[0].fsPath;
    }
  }
  await ctx.choice.remember(folder.uri.toString(), dbPath);
  if (vscode.workspace.getConfiguration('tracedb', folder.uri).get<string>('databasePath', '')) {
    void vscode.window.showInformationMessage(t('tracedb.databasePath is set for {0} and still decides; clear it to use your pick.', folder.name));
  }
  await ctx.sendWatchList();
  return dbPath;
};

export const COMMANDS: Record<string, Factory> = {
  'tracedb.enableWal': enableWal,
  'tracedb.checkHealth': checkHealth,
  'tracedb.countTraces': countTraces,
  'tracedb.integrityCheck': integrityCheck,
  'tracedb.showHolders': showHolders,
  'tracedb.killBlocker': killBlocker,
  'tracedb.restartProxy': (ctx) => async (arg) => {
    if (!(await requireTrust(t('Restart Proxy')))) return;
    const e = await pickEntry(ctx, arg);
    return e && restartProxy(ctx, e, argsOf(arg).confirmed === true);
  },
  'tracedb.checkpoint': checkpoint,
  'tracedb.backup': backup,
  'tracedb.runVerification': (ctx) => async (arg) => {
    if (!(await requireTrust(t('Run Verification')))) return;
    const e = await pickEntry(ctx, arg);
    return e && runVerification(ctx, e);
  },
  'tracedb.copyReport': copyReport,
  'tracedb.longTermFix': (ctx) => async (arg) => (await requireTrust(t('Apply Long-term Fix'))) && applyStorageFix(ctx, arg),
  'tracedb.increaseTimeout': (ctx) => async (arg) => (await requireTrust(t('Increase Busy Timeout in Code'))) && applyStorageFix(ctx, arg, 'busyTimeout'),
  'tracedb.openExplorer': (ctx) => async (arg) => {
    const e = await pickEntry(ctx, arg);
    if (!e) return;
    if (e.report && !e.report.reachable) {
      void vscode.window.showWarningMessage(e.report.findings[0]?.message ?? t('The trace database cannot be read.'));
      return;
    }
    return ExplorerPanel.createOrShow(ctx, e.dbPath).dbPath;
  },
  'tracedb.openLog': openLog,
  'tracedb.showFixes': showFixes,
  'tracedb.chooseDatabase': chooseDatabase,
  'tracedb.showOutput': (ctx) => async () => ctx.log.show(),
  // The client's state handler (extension.ts) sends the watch list to the new server.
  'tracedb.restartServer': (ctx) => async () => ctx.client.restart(),
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => vscode.commands.registerCommand(id, guarded(ctx, factory(ctx))));
}
