// RUNBOOK-002 option 3 ("kill <PID>, be careful!") with the care built in
// (DESIGN.md § Rules 4): only a process that has this database open right now; never
// the doctor, its parent (the extension host), VS Code's own processes, or PID 1.
import * as path from 'node:path';
import { DoctorError } from './errors';
import { sampleLocks } from './locks';
import type { Holder, LockSample } from './types';

export type KillSignal = 'SIGTERM' | 'SIGKILL';

export interface KillResult {
  pid: number;
  signal: KillSignal;
  /** Still running after the grace period: offer SIGKILL. */
  stillAlive: boolean;
  holder: Holder;
  message: string;
}

/** Why `pid` may not be killed, or undefined when it may. Pure: the rules in one place. */
export function refuseKill(pid: number, sample: Pick<LockSample, 'holders'>, protectedPids: readonly number[], selfPid = process.pid, parentPid = process.ppid): string | undefined {
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
