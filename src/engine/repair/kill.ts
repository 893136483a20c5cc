// RUNBOOK-002 option 3 ("kill <PID>, be careful!") with the care built in
// (docs/DESIGN.md § Rules 4): only a process that has this database open right now; never
// the doctor, its parent (the extension host), VS Code's own processes, or PID 1.
import { readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { DoctorError } from '../errors';
import { classifyHolder } from '../locks/processNames';
import { sampleLocks } from '../locks/sampleLocks';
import { parentPidOf, procStatFields } from '../locks/procStat';
import type { LockSample } from '../../shared/model';
import type { KillResult, KillSignal, StopProxyResult } from '../../shared/proxyModel';

/** Why `pid` may not be killed, or undefined when it may. Pure: the rules in one place. */
export function refuseKill(
  pid: number,
  sample: Pick<LockSample, 'holders'>,
  protectedPids: readonly number[],
  selfPid = process.pid,
  parentPid = process.ppid,
): string | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return `PID ${pid} is not a process that may be killed.`;
  if (pid === selfPid) return `PID ${pid} is the doctor itself.`;
  if (pid === parentPid || protectedPids.includes(pid)) return `PID ${pid} is part of VS Code; stopping it would close your editor.`;
  const h = sample.holders.find((x) => x.pid === pid);
  if (!h) return `PID ${pid} does not have the database open (any more); nothing to kill.`;
  if (h.self || h.kind === 'doctor') return `PID ${pid} is the doctor itself.`;
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function killHolder(dbPath: string, pid: number, signal: KillSignal, protectedPids: readonly number[] = [], graceMs = 3000): Promise<KillResult> {
  dbPath = path.resolve(dbPath);
  // Decide on a fresh look: the PID the user picked a minute ago may be another process now.
  const sample = await sampleLocks(dbPath);
  const refusal = refuseKill(pid, sample, protectedPids);
  if (refusal) throw new DoctorError(`Not killed: ${refusal}`);
  const holder = sample.holders.find((x) => x.pid === pid)!;
  try {
    process.kill(pid, signal);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new DoctorError(`PID ${pid} has already exited.`);
    if (code === 'EPERM') throw new DoctorError(`No permission to signal PID ${pid} (it belongs to another user). Stop it from that user's session.`);
    throw e;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const stillAlive = alive(pid);
  return {
    pid,
    signal,
    stillAlive,
    holder,
    message: stillAlive
      ? `PID ${pid} (${holder.label}) is still running ${Math.round(graceMs / 1000)} s after ${signal}.`
      : `PID ${pid} (${holder.label}) stopped after ${signal}; its locks on ${path.basename(dbPath)} are released.`,
  };
}

/** Parent PID and argv of a process, from /proc (undefined where it cannot be read). */
function procInfo(pid: number, procRoot: string): { ppid: number; argv: string[]; cwd?: string } | undefined {
  try {
    const fields = procStatFields(pid, procRoot);
    if (!fields) return undefined;
    const ppid = parentPidOf(fields);
    const argv = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((s) => s.length > 0);
    let cwd: string | undefined;
    try {
      cwd = readlinkSync(`${procRoot}/${pid}/cwd`);
    } catch {
      cwd = undefined;
    }
    return { ppid, argv, ...(cwd ? { cwd } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * The proxy's launchers above `pid` (`tsx watch`, `pnpm --filter … dev`), nearest first.
 * Stopping only the proxy would leave them running: `tsx watch` restarts it on the next
 * file change, and a second `dev` would then fight the old one for the port.
 */
export function launchersOf(pid: number, protectedPids: readonly number[] = [], procRoot = '/proc'): number[] {
  const out: number[] = [];
  let cur = procInfo(pid, procRoot)?.ppid;
  while (cur !== undefined && cur > 1 && !protectedPids.includes(cur) && cur !== process.pid && cur !== process.ppid) {
    const info = procInfo(cur, procRoot);
    if (!info || classifyHolder(cur, info.argv, process.pid, info.cwd).kind !== 'proxy-launcher') break;
    out.push(cur);
    cur = info.ppid;
  }
  return out;
}

/**
 * Restart Proxy's first half: SIGTERM to every proxy process that has `dbPath` open and
 * to their launchers (outermost first, so none restarts the proxy meanwhile), then wait
 * for them to exit. The rules of `refuseKill` apply to each proxy process.
 */
export async function stopProxy(dbPath: string, protectedPids: readonly number[] = [], graceMs = 5000, procRoot = '/proc'): Promise<StopProxyResult> {
  dbPath = path.resolve(dbPath);
  const sample = await sampleLocks(dbPath);
  const proxies = sample.holders.filter((h) => h.kind === 'proxy' && refuseKill(h.pid, sample, protectedPids) === undefined);
  const targets: { pid: number; label: string }[] = [];
  for (const p of proxies) {
    for (const l of launchersOf(p.pid, protectedPids, procRoot).reverse()) {
      if (!targets.some((t) => t.pid === l))
        targets.push({ pid: l, label: `the proxy's launcher (${(procInfo(l, procRoot)?.argv ?? []).slice(0, 4).join(' ')})` });
    }
    targets.push({ pid: p.pid, label: p.label });
  }
  for (const t of targets) {
    try {
      process.kill(t.pid, 'SIGTERM');
    } catch {
      // already gone, or another user's: reported below by whether it is still alive
    }
  }
  const deadline = Date.now() + graceMs;
  while (targets.some((t) => alive(t.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const stopped = targets.map((t) => ({ ...t, exited: !alive(t.pid) }));
  const left = stopped.filter((s) => !s.exited);
  return {
    stopped,
    message: !stopped.length
      ? `No proxy process has ${path.basename(dbPath)} open.`
      : left.length
        ? `Still running ${Math.round(graceMs / 1000)} s after SIGTERM: ${left.map((s) => `PID ${s.pid} (${s.label})`).join(', ')}.`
        : `Stopped ${stopped.map((s) => `PID ${s.pid} (${s.label})`).join(', ')}.`,
  };
}
