// The hidden names a copy has until it is complete and checked, and the sweep that
// removes what a killed or failed backup or integrity check left behind.
import { readlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { backupsDirOf, baseOf, stampOf } from './backupFiles';

/**
 * A temporary from another PID namespace (a container sharing the folder), where this
 * process cannot tell whether its owner lives, is removed once nobody has written it
 * for this long. One from this namespace goes as soon as its owner is gone.
 */
export const STALE_TEMP_MS = 3 * 60 * 1000;
/** No copy runs this long: an owner PID still alive after it is a reused PID. */
const REUSED_PID_MS = 24 * 60 * 60 * 1000;
/** The passive poll sweeps at most this often per folder; a CLI run always sweeps. */
const SWEEP_EVERY_MS = 60 * 1000;

/**
 * The hidden name a copy has until it is complete and checked. The owner's PID (and its
 * PID namespace) is in the name, so a later run can tell the leftover of a killed run
 * from a copy in progress.
 */
export function partialPathOf(out: string, pid = process.pid): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.${pidNamespace()}-${pid}.partial`);
}

let ownNamespace: string | undefined;
/** This process's PID namespace (Linux), so a PID from another one is never taken for ours. */
export function pidNamespace(): string {
  if (ownNamespace === undefined) {
    try {
      ownNamespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? 'x';
    } catch {
      ownNamespace = 'x';
    }
  }
  return ownNamespace;
}

/** The integrity check's throwaway copy: the same temporary scheme, never renamed. */
export function checkCopyPath(dbPath: string, now = new Date()): string {
  return partialPathOf(path.join(backupsDirOf(dbPath), `${baseOf(dbPath)}-check-${stampOf(now)}.db`));
}

/** `.NAME.NS-PID.partial` and the copy's own -journal/-wal/-shm. */
const TEMP_RE = /^\..+\.(\w+)-(\d+)\.partial(?:-journal|-wal|-shm)?$/;
/** Before the PID was in the name (one release): `.NAME.partial`. */
const OLD_PARTIAL_RE = /^\..+\.db\.partial(?:-journal|-wal|-shm)?$/;
/** Older still: the integrity check's folder beside the database. */
const OLD_CHECK_DIR_RE = /^\.tracedb-check-/;

const lastSweep = new Map<string, number>();

/**
 * Removes what a killed or failed backup or integrity check left: temporaries whose
 * owner is gone (see STALE_TEMP_MS for owners this process cannot see), and the older
 * schemes' leftovers once nobody has written them for STALE_TEMP_MS. Never a finished backup, never another live process's copy.
 * Never throws: cleaning up must not fail the check or repair that does it.
 */
export async function sweepStaleTemporaries(dbPath: string, opts: { force?: boolean; now?: number } = {}): Promise<string[]> {
  const removed: string[] = [];
  try {
    const now = opts.now ?? Date.now();
    const abs = path.resolve(dbPath);
    const real = await fs.realpath(abs).catch(() => abs);
    const dirs = [...new Set([path.dirname(abs), path.dirname(real)])];
    for (const dbDir of dirs) {
      if (!opts.force && now - (lastSweep.get(dbDir) ?? -Infinity) < SWEEP_EVERY_MS) continue;
      lastSweep.set(dbDir, now);
      const olderThan = (p: string, ms: number) =>
        fs.stat(p).then(
          (st) => now - st.mtimeMs >= ms,
          () => false,
        );
      const backups = path.join(dbDir, 'backups');
      for (const n of await fs.readdir(backups).catch(() => [] as string[])) {
        const p = path.join(backups, n);
        const m = TEMP_RE.exec(n);
        let stale = false;
        if (m) {
          const ours = m[1] === pidNamespace() && m[1] !== 'x';
          if (!ours) stale = await olderThan(p, STALE_TEMP_MS);
          else stale = !isAlive(Number(m[2])) || (await olderThan(p, REUSED_PID_MS));
        } else if (OLD_PARTIAL_RE.test(n)) stale = await olderThan(p, STALE_TEMP_MS);
        if (
          stale &&
          (await fs.rm(p, { force: true }).then(
            () => true,
            () => false,
          ))
        )
          removed.push(p);
      }
      for (const n of await fs.readdir(dbDir).catch(() => [] as string[])) {
        if (!OLD_CHECK_DIR_RE.test(n)) continue;
        const p = path.join(dbDir, n);
        const inside = await fs.readdir(p).catch(() => [] as string[]);
        const ages = await Promise.all([p, ...inside.map((x) => path.join(p, x))].map((x) => olderThan(x, STALE_TEMP_MS)));
        if (
          ages.every(Boolean) &&
          (await fs.rm(p, { recursive: true, force: true }).then(
            () => true,
            () => false,
          ))
        )
          removed.push(p);
      }
    }
  } catch {
    // best effort: the next run tries again
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
