// Every "Trace DB:" command, wired to its handler in one table (rust-analyzer's pattern).
// The table is keyed by COMMANDS' names, so a command without a handler does not compile.
import * as vscode from 'vscode';
import { COMMANDS, type CommandName } from '../../shared/commandIds';
import type { Ctx } from '../ctx';
import { applyStorageFix } from '../storageFix';
import { requireTrust } from '../trust';
import { chooseDatabase } from './chooseDatabase';
import { showFixes } from './fixPicker';
import { checkHealth, copyReport, countTraces, openExplorer, openLog, showHolders } from './info';
import { openLockMonitor } from './monitor';
import { restartProxy, runVerification } from './proxyTasks';
import { backup, checkpoint, enableWal, integrityCheck, killBlocker } from './repairs';
import { argsOf, pickEntry } from './target';

const t = vscode.l10n.t;

type Handler = (ctx: Ctx, arg?: unknown) => Promise<unknown>;

const HANDLERS: Record<CommandName, Handler> = {
  enableWal,
  checkHealth,
  countTraces,
  integrityCheck,
  showHolders,
  killBlocker,
  restartProxy: async (ctx, arg) => {
    if (!(await requireTrust(t('Restart Proxy')))) return;
    const entry = await pickEntry(ctx, arg);
    return entry && restartProxy(ctx, entry, argsOf(arg).confirmed === true);
  },
  checkpoint,
  backup,
  runVerification: async (ctx, arg) => {
    if (!(await requireTrust(t('Run Verification')))) return;
    const entry = await pickEntry(ctx, arg);
    return entry && runVerification(ctx, entry);
  },
  copyReport,
  longTermFix: async (ctx, arg) => (await requireTrust(t('Apply Long-term Fix'))) && applyStorageFix(ctx, arg),
  increaseTimeout: async (ctx, arg) => (await requireTrust(t('Increase Busy Timeout in Code'))) && applyStorageFix(ctx, arg, 'busyTimeout'),
  openExplorer,
  openLockMonitor,
  openLog,
  showFixes,
  chooseDatabase,
  showOutput: async (ctx) => ctx.log.show(),
  // The client's state handler (main.ts) sends the watch list to the new server.
  restartServer: async (ctx) => ctx.client.restart(),
};

/** Runs a command body; errors become messages, never silent failures. */
function guarded(ctx: Ctx, handler: Handler): (arg?: unknown) => Promise<unknown> {
  return async (arg) => {
    try {
      return await handler(ctx, arg);
    } catch (e) {
      await ctx.showError(e);
      return undefined;
    }
  };
}

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return (Object.keys(HANDLERS) as CommandName[]).map((name) => vscode.commands.registerCommand(COMMANDS[name], guarded(ctx, HANDLERS[name])));
}
