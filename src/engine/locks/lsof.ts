// Who has the database open where there is no /proc/locks (macOS, the BSDs): lsof
// shows who has the files open, but not which SQLite lock they hold.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { ROLE_ORDER, type TrackedFile } from './openFiles';
import { classifyHolder } from './processNames';
import type { DbFileRole, Holder, LockSample } from '../../shared/model';

const LSOF_TIMEOUT_MS = 10_000;

/** lsof -F output: `p` starts a process, `c` its command, `n` a file name. */
export function parseLsof(text: string): { pid: number; command: string; names: string[] }[] {
  const out: { pid: number; command: string; names: string[] }[] = [];
  let cur: { pid: number; command: string; names: string[] } | undefined;
  for (const line of text.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') {
      cur = { pid: Number(value), command: '', names: [] };
      out.push(cur);
    } else if (cur && tag === 'c') cur.command = value;
    else if (cur && tag === 'n') cur.names.push(value);
  }
  return out;
}

interface RunResult {
  stdout: string;
  missing: boolean;
  timedOut: boolean;
}

function run(file: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: LSOF_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      // lsof exits 1 when a file is open nowhere, which is an answer, not a failure.
      const code = (err as NodeJS.ErrnoException | null)?.code;
      const killed = (err as { killed?: boolean } | null)?.killed === true;
      resolve({ stdout: String(stdout ?? ''), missing: code === 'ENOENT' || code === 'EACCES', timedOut: killed });
    });
  });
}

/** Full command lines from ps, since lsof only gives the (truncated) process name. */
async function psCommands(pids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (!pids.length) return out;
  const { stdout } = await run('ps', ['-o', 'pid=,args=', '-p', pids.join(',')]);
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

/** Working folders from lsof: `node dist/index.js` is the proxy only in packages/proxy. */
async function lsofCwds(lsofPath: string, pids: readonly number[]): Promise<Map<number, string>> {
  if (!pids.length) return new Map();
  const { stdout } = await run(lsofPath, ['-w', '-a', '-d', 'cwd', '-F', 'pn', '-p', pids.join(',')]);
  return new Map(parseLsof(stdout).flatMap((p) => (p.names[0] ? [[p.pid, p.names[0]] as const] : [])));
}

export async function sampleFromLsof(files: readonly TrackedFile[], takenAt: number, lsofPath: string): Promise<LockSample> {
  const existing = files.filter((f) => f.st);
  const { stdout, missing, timedOut } = await run(lsofPath, ['-w', '-F', 'pcn', '--', ...existing.map((f) => f.path)]);
  if (missing) {
    return {
      takenAt,
      source: 'none',
      locks: [],
      holders: [],
      note: 'This system has neither /proc/locks nor lsof, so the doctor cannot see which processes have the database open or hold its locks.',
    };
  }
  const procs = parseLsof(stdout).filter((p) => p.pid > 0);
  const pids = [...new Set(procs.map((p) => p.pid))];
  const [commands, cwds] = await Promise.all([psCommands(pids), lsofCwds(lsofPath, pids)]);
  const byPid = new Map<number, Holder>();
  for (const p of procs) {
    const roles = new Set<DbFileRole>();
    for (const name of p.names) {
      // lsof was asked about these files only; its spelling of the path can differ (/private/tmp).
      const f = existing.find((e) => e.path === name) ?? [...existing].reverse().find((e) => name.endsWith(path.basename(e.path)));
      roles.add(f?.role ?? 'db');
    }
    const command = commands.get(p.pid) ?? p.command;
    const prev = byPid.get(p.pid);
    for (const r of prev?.files ?? []) roles.add(r);
    byPid.set(p.pid, {
      pid: p.pid,
      command,
      ...classifyHolder(p.pid, command.split(' '), process.pid, cwds.get(p.pid)),
      files: ROLE_ORDER.filter((r) => roles.has(r)),
      locks: [],
    });
  }
  return {
    takenAt,
    source: 'lsof',
    locks: [],
    holders: [...byPid.values()].sort((a, b) => a.pid - b.pid),
    note: timedOut
      ? `lsof did not answer within ${LSOF_TIMEOUT_MS / 1000} s, so the list of processes with the database open may be incomplete; this platform does not show which SQLite lock a process holds (no /proc/locks).`
      : 'This platform does not show which SQLite lock a process holds (no /proc/locks): listed are the processes that have the database open, from lsof.',
  };
}
