// Every command the extension contributes (package.json contributes.commands), by id.
// Code names a command only through COMMANDS, so an id lives in two places, here and in
// package.json, and test/unit/host/contributions.test.ts keeps the two equal.
import type { FixId } from './model';

export const COMMANDS = {
  enableWal: 'tracedb.enableWal',
  checkHealth: 'tracedb.checkHealth',
  countTraces: 'tracedb.countTraces',
  integrityCheck: 'tracedb.integrityCheck',
  showHolders: 'tracedb.showHolders',
  killBlocker: 'tracedb.killBlocker',
  restartProxy: 'tracedb.restartProxy',
  checkpoint: 'tracedb.checkpoint',
  backup: 'tracedb.backup',
  runVerification: 'tracedb.runVerification',
  copyReport: 'tracedb.copyReport',
  longTermFix: 'tracedb.longTermFix',
  increaseTimeout: 'tracedb.increaseTimeout',
  openExplorer: 'tracedb.openExplorer',
  openLockMonitor: 'tracedb.openLockMonitor',
  openLog: 'tracedb.openLog',
  showFixes: 'tracedb.showFixes',
  chooseDatabase: 'tracedb.chooseDatabase',
  showOutput: 'tracedb.showOutput',
  restartServer: 'tracedb.restartServer',
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandName];

/** The command that applies a fix: every FixId is the name of one (the compiler checks it here). */
export function fixCommand(fix: FixId): CommandId {
  return COMMANDS[fix];
}
