// The commands that only look: check health, count traces, show the processes holding the
// database, copy the diagnostic report, open the proxy's log, open the trace explorer.
// A report they get is stored, so the status bar and the tree show it too.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../../shared/commandIds';
import * as proto from '../../shared/protocol';
import { SETTINGS } from '../../shared/settings';
import type { Ctx } from '../ctx';
import type { DbEntry } from '../health/dbEntry';
import { ExplorerPanel } from '../explorer/explorerPanel';
import { argsOf, pickEntry } from './target';

const t = vscode.l10n.t;

export async function checkHealth(ctx: Ctx, arg: unknown): Promise<proto.HealthReport[] | undefined> {
  const a = argsOf(arg);
  if (!ctx.store.reported()) await ctx.whenReported();
  const entries = (a.dbPath ? [await pickEntry(ctx, arg)] : ctx.store.all()).filter((entry): entry is DbEntry => !!entry);
  // Refused (not a watched database) or nothing to check: pickEntry has said why.
  if (!entries.length) return undefined;
  const reports = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Checking trace database health…') }, () =>
    Promise.all(entries.map((entry) => ctx.check(entry))),
  );
  // A visible answer, not only a log line: the verdict and the worst problem.
  const lines = reports.map((r) => {
    const name = path.basename(r.path);
    const problems = r.findings.filter((f) => f.severity !== 'info');
    if (!r.reachable) return r.findings[0]?.title ?? t('{0} cannot be read', name);
    if (!problems.length)
      return t(
        '{0} is healthy: {1}{2}.',
        name,
        r.journalMode === 'wal' ? 'WAL' : r.journalMode,
        r.traceCount ? t(', ≈ {0} traces', r.traceCount.value.toLocaleString('en-US')) : '',
      );
    return t('{0}: {1} problem(s): {2}', name, problems.length, problems[0].title);
  });
  const healthy = reports.every((r) => r.healthy);
  if (healthy) void vscode.window.showInformationMessage(lines.join(' · '));
  else {
    const fixes = t('Show Fixes');
    void vscode.window.showWarningMessage(lines.join(' · '), fixes).then((c) => c === fixes && vscode.commands.executeCommand(COMMANDS.showFixes));
  }
  return reports;
}

export async function countTraces(ctx: Ctx, arg: unknown): Promise<proto.HealthReport | undefined> {
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Counting traces (COUNT(*))…') }, () =>
    ctx.check(entry, { countExact: true }),
  );
  if (r.traceCount)
    void vscode.window.showInformationMessage(t('{0} holds {1} traces (exact count).', path.basename(entry.dbPath), r.traceCount.value.toLocaleString()));
  else void vscode.window.showWarningMessage(r.findings[0]?.message ?? t('Could not count traces.'));
  return r;
}

export async function showHolders(ctx: Ctx, arg: unknown): Promise<proto.LockSample | undefined> {
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  const sample = await ctx.request(proto.holders, { dbPath: entry.dbPath });
  if (!sample.holders.length) {
    void vscode.window.showInformationMessage(sample.note ?? t('No process has {0} open.', path.basename(entry.dbPath)));
    return sample;
  }
  const pick = await vscode.window.showQuickPick(
    sample.holders.map((h) => ({
      label: `$(${h.self ? 'pulse' : h.blocker ? 'error' : h.locks.length ? 'lock' : 'terminal'}) PID ${h.pid}`,
      description: `${h.label}${h.blocker ? ` · ${t('blocking the proxy')}` : ''}${h.locks.length ? ` · ${h.locks.join(', ')}` : ''}`,
      detail: h.command,
      holder: h,
    })),
    { placeHolder: t('Processes with {0} open', path.basename(entry.dbPath)), matchOnDetail: true },
  );
  // Showing is not killing: a pick offers the stop, it never stops by itself.
  if (pick && !pick.holder.self && pick.holder.kind !== 'proxy' && pick.holder.kind !== 'proxy-launcher') {
    const kill = t('Kill Blocking Process');
    if ((await vscode.window.showInformationMessage(`PID ${pick.holder.pid} ${pick.holder.label}: ${pick.holder.command}`, kill)) === kill) {
      await vscode.commands.executeCommand(COMMANDS.killBlocker, { dbPath: entry.dbPath, pid: pick.holder.pid });
    }
  }
  return sample;
}

export async function copyReport(ctx: Ctx, arg: unknown): Promise<string | undefined> {
  const entries = argsOf(arg).dbPath ? [await pickEntry(ctx, arg)] : ctx.store.all();
  const parts: string[] = [];
  for (const entry of entries) {
    if (!entry) continue;
    const r = await ctx.request(proto.report, { dbPath: entry.dbPath, logPath: entry.logPath });
    ctx.store.update(entry.folderUri, r.report);
    parts.push(r.markdown);
  }
  if (!parts.length) return;
  const text = parts.join('\n---\n\n');
  await vscode.env.clipboard.writeText(text);
  void vscode.window.showInformationMessage(t('Diagnostic report copied to the clipboard ({0} lines).', text.split('\n').length));
  return text;
}

export async function openLog(ctx: Ctx, arg: unknown): Promise<void> {
  const entry = await pickEntry(ctx, arg);
  if (!entry?.logPath) return;
  const uri = vscode.Uri.file(entry.logPath);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    void vscode.window.showWarningMessage(t('No proxy log at {0}. Set {1} if it lives elsewhere.', entry.logPath, SETTINGS.logPath.key));
    return;
  }
  const line = Math.max(0, (entry.report?.log?.firstLine ?? 1) - 1);
  const editor = await vscode.window.showTextDocument(uri, { preview: true, selection: new vscode.Range(line, 0, line, 0) });
  editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.InCenter);
}

export async function openExplorer(ctx: Ctx, arg: unknown): Promise<string | undefined> {
  const entry = await pickEntry(ctx, arg);
  if (!entry) return;
  if (entry.report && !entry.report.reachable) {
    void vscode.window.showWarningMessage(entry.report.findings[0]?.message ?? t('The trace database cannot be read.'));
    return;
  }
  return ExplorerPanel.createOrShow(ctx, entry.dbPath).dbPath;
}
