// Who has the database open on Windows: Restart Manager, asked from PowerShell, names
// the processes that have a file open. Windows shows no one's byte-range locks, so which
// SQLite lock each holds stays unknown, and the report says so.
import * as path from 'node:path';
import { execRunner, type CommandResult, type CommandRunner } from './commandRunner';
import { ROLE_ORDER, type TrackedFile } from './openFiles';
import { classifyHolder, type HolderClass } from './processNames';
import { proxyPortFor } from './proxyPort';
import { RESTART_MANAGER_SCRIPT, RM_FILES_ENV, RM_PORT_ENV } from './restartManagerScript';
import type { DbFileRole, Holder, LockSample } from '../../shared/model';

/** Add-Type compiles the C# on every run, which can take seconds on a busy machine (not measured here): more than lsof gets. */
export const RM_TIMEOUT_MS = 30_000;
export const POWERSHELL_ARGS: readonly string[] = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', '-'];

/** RM_APP_TYPE */
const RM_SERVICE = 3;
const RM_EXPLORER = 4;
const RM_CRITICAL = 1000;

/** One process Restart Manager named, with what Win32_Process added (null where Windows refused). */
export interface RmProcess {
  pid: number;
  startTime: string | null;
  /** Restart Manager's friendly name: usually the executable's file description, not its command. */
  appName: string;
  serviceShortName: string;
  appType: number;
  executablePath: string | null;
  commandLine: string | null;
  /** The command line split by CommandLineToArgvW, as the process saw it. */
  argv: string[] | null;
  /** Which of the files asked about it has open, as they were given. */
  files: string[];
}

export type RmOutcome = { ok: true; processes: RmProcess[]; listeners: number[] } | { ok: false; reason: string };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function toProcess(v: unknown): RmProcess | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0) return undefined;
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : null);
  return {
    pid: o.pid,
    startTime: str(o.startTime),
    appName: str(o.appName) ?? '',
    serviceShortName: str(o.serviceShortName) ?? '',
    appType: typeof o.appType === 'number' ? o.appType : 0,
    executablePath: str(o.executablePath),
    commandLine: str(o.commandLine),
    argv: list(o.argv),
    files: list(o.files) ?? [],
  };
}

/**
 * The line worth showing of what PowerShell printed instead of an answer: its error
 * records start with `At line:1 char:1` and `+ ` lines quoting the script, then the message.
 */
function firstLine(text: string): string {
  const line =
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l.length > 0 && !/^At line:\d+/.test(l) && !l.startsWith('+')) ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** What one PowerShell run answered: the processes, or why there is no answer. */
export function parseRestartManagerRun(res: CommandResult): RmOutcome {
  if (res.missing) return { ok: false, reason: 'powershell.exe could not be started' };
  if (res.timedOut) return { ok: false, reason: `PowerShell did not answer within ${RM_TIMEOUT_MS / 1000} s` };
  // The answer is the last line that is a JSON object; anything before it is noise.
  const lines = res.stdout.split(/\r?\n/).map((l) => l.trim());
  let answer: unknown;
  for (let i = lines.length - 1; i >= 0 && answer === undefined; i--) {
    if (!lines[i].startsWith('{')) continue;
    try {
      answer = JSON.parse(lines[i]);
    } catch {
      // not it: keep looking
    }
  }
  if (typeof answer === 'object' && answer !== null) {
    const a = answer as Record<string, unknown>;
    if (a.ok === true && Array.isArray(a.holders)) {
      const processes = a.holders.map(toProcess).filter((p): p is RmProcess => p !== undefined);
      const listeners = Array.isArray(a.listeners) ? a.listeners.filter((p): p is number => Number.isInteger(p)) : [];
      return { ok: true, processes, listeners };
    }
    if (a.ok === false) {
      const message = str(a.message)?.trim();
      if (a.step === 'powershell') return { ok: false, reason: `PowerShell could not run the query: ${message || 'no reason given'}` };
      return { ok: false, reason: `${str(a.step) ?? 'Restart Manager'} failed with error ${String(a.error)}${message ? ` (${message})` : ''}` };
    }
  }
  const said = firstLine(res.stderr) || firstLine(res.stdout);
  const how = res.code ? `PowerShell exited with code ${res.code}` : 'PowerShell printed no answer';
  return { ok: false, reason: said ? `${how}: ${said}` : how };
}

/** The name of a process whose command line Windows would not show: what Restart Manager calls it. */
function friendlyClass(p: RmProcess): HolderClass {
  if (p.appType === RM_SERVICE && p.serviceShortName) return { kind: 'other', label: `Windows service ${p.serviceShortName}`, self: false };
  if (p.appType === RM_EXPLORER) return { kind: 'other', label: 'Windows Explorer', self: false };
  const name = p.appName || 'unknown process';
  return { kind: 'other', label: p.appType === RM_CRITICAL ? `${name} (critical system process)` : name, self: false };
}

/** The holders, named as on Linux where Windows shows the command line; Windows gives no working folder. */
export function holdersFromRestartManager(
  processes: readonly RmProcess[],
  listeners: readonly number[],
  files: readonly TrackedFile[],
  proxyPort: number,
  selfPid = process.pid,
): { holders: Holder[]; nameOnly: number[] } {
  const key = (p: string) => path.win32.normalize(p).toLowerCase();
  const roleByPath = new Map(files.map((f) => [key(f.path), f.role]));
  const listening = new Set(listeners);
  const nameOnly: number[] = [];
  const holders = processes.map((p): Holder => {
    const evidence = listening.has(p.pid) ? { proxyPort } : {};
    const argv = p.argv?.length ? p.argv : p.executablePath ? [p.executablePath] : [];
    let cls = classifyHolder(p.pid, argv, selfPid, undefined, evidence);
    if (!argv.length && cls.kind === 'other') {
      cls = friendlyClass(p);
      nameOnly.push(p.pid);
    }
    const roles = new Set(p.files.map((f) => roleByPath.get(key(f))).filter((r): r is DbFileRole => r !== undefined));
    return {
      pid: p.pid,
      command: p.commandLine ?? p.executablePath ?? p.appName,
      ...cls,
      files: ROLE_ORDER.filter((r) => roles.has(r)),
      locks: [],
    };
  });
  return { holders: holders.sort((a, b) => a.pid - b.pid), nameOnly };
}

export interface RmSampleOptions {
  powershellPath: string;
  runner?: CommandRunner;
  /** What the report says this method cannot see (lockViewPlan.ts). */
  note: string;
  dbPaths: readonly string[];
  proxyPort?: number;
  selfPid?: number;
}

export async function sampleFromRestartManager(files: readonly TrackedFile[], takenAt: number, opts: RmSampleOptions): Promise<LockSample> {
  const run = opts.runner ?? execRunner;
  const existing = files.filter((f) => f.st);
  const port = opts.proxyPort ?? (await proxyPortFor(opts.dbPaths));
  const res = await run(opts.powershellPath, POWERSHELL_ARGS, {
    timeoutMs: RM_TIMEOUT_MS,
    input: RESTART_MANAGER_SCRIPT,
    env: { [RM_FILES_ENV]: existing.map((f) => f.path).join('\n'), [RM_PORT_ENV]: String(port) },
  });
  const outcome = parseRestartManagerRun(res);
  if (!outcome.ok) {
    return {
      takenAt,
      source: 'none',
      locks: [],
      holders: [],
      note: `Cannot see who has the file open on Windows: asking Restart Manager failed (${outcome.reason}). Which SQLite lock each process holds cannot be seen on Windows at all.`,
    };
  }
  const { holders, nameOnly } = holdersFromRestartManager(outcome.processes, outcome.listeners, existing, port, opts.selfPid);
  const notes = [opts.note];
  if (nameOnly.length) {
    notes.push(
      `Windows showed only the application name of PID ${nameOnly.join(', ')}, not the command line (another user's process, or one the doctor may not query), so the doctor cannot tell what ${nameOnly.length === 1 ? 'it runs' : 'they run'}.`,
    );
  }
  if (holders.some((h) => h.kind === 'script' && /^(node|nodejs|bun|deno|tsx|ts-node)\b/i.test(h.label))) {
    notes.push(
      "Windows does not show a process's working folder, so `node dist/index.js` run from packages/proxy is recognised as the proxy only while it serves the proxy's port.",
    );
  }
  return { takenAt, source: 'restart-manager', locks: [], holders, note: notes.join(' ') };
}
