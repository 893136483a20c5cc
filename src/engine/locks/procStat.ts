// /proc/PID/stat, read in one place: the lock sampler keys its cache by a process's start
// time, Restart Proxy walks parent PIDs up to the proxy's launchers, and a stuck lock is
// never dated before its process started.
import { readFileSync } from 'node:fs';

/**
 * The fields after `comm` (field 2), which may itself hold spaces and parentheses, so
 * they are counted from the last ')'. fields[0] is field 3 (state); undefined when the
 * file cannot be read.
 */
export function procStatFields(pid: number, procRoot = '/proc'): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** Field 4: the parent's PID. */
export function parentPidOf(fields: readonly string[]): number {
  return Number(fields[1]);
}

/** Field 22: start time in clock ticks since boot, as text (a cache key as it is). */
export function startTicksOf(fields: readonly string[]): string {
  return fields[19] ?? '';
}

/** Epoch ms a process started (its start ticks and the boot time), or undefined. */
export function processStartMs(pid: number, procRoot = '/proc'): number | undefined {
  const fields = procStatFields(pid, procRoot);
  if (!fields) return undefined;
  let btime: number;
  try {
    btime = Number(/^btime (\d+)$/m.exec(readFileSync(`${procRoot}/stat`, 'latin1'))?.[1]);
  } catch {
    return undefined;
  }
  const ticks = Number(startTicksOf(fields));
  // USER_HZ is 100 on every Linux Node runs on.
  return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
}
