// Samples → holds: a hold starts at the first sample that saw a process hold a lock and
// ends at the first sample that saw it gone, so every start and end is known to within
// one sampling interval. The history is bounded by age and by count.
import { blocksCommit } from '../locks/lockBytes';
import type { HolderClass } from '../locks/processNames';
import type { SampledLock } from './lockSampler';
import type { LockHold } from '../../shared/monitorModel';
import type { HeldLock, SqliteLockName } from '../../shared/model';

/** The write lock, in either journal mode: whoever holds it is the one writer. */
export const WRITE_LOCKS: ReadonlySet<SqliteLockName> = new Set(['RESERVED', 'PENDING', 'EXCLUSIVE', 'WAL_WRITE']);

export const DEFAULT_HISTORY_MS = 60 * 60_000;
/**
 * At most this many holds are kept. Ten samples a second see at most a few new holds
 * each, so this is an hour of a busy database; a longer history would only cost memory.
 */
export const MAX_HOLDS = 50_000;

export function isWriteLock(lock: SqliteLockName): boolean {
  return WRITE_LOCKS.has(lock);
}

/**
 * Locks that say nothing about waiting: every WAL connection keeps WAL_OPEN on the -shm
 * and SHARED on the database for as long as it is open, and the proxy's own WAL read
 * marks come and go with each of its transactions. Another process's read mark is kept:
 * a reader that stays pins the WAL and starves checkpoints.
 */
function isNoise(lock: SqliteLockName, wal: boolean, cls: HolderClass): boolean {
  if (lock === 'WAL_OPEN') return true;
  if (lock === 'SHARED' && wal) return true;
  return lock === 'WAL_READ' && cls.kind === 'proxy';
}

export function blocksProxy(l: SampledLock, wal: boolean, cls: HolderClass): boolean {
  // The doctor's own holds (a user's check, a backup's copy) are not contention: each
  // repair reports the pause it caused, and a lock-contention finding naming the doctor
  // for the backup the user just asked for would send them after the wrong process.
  if (cls.kind === 'proxy' || cls.self) return false;
  const held: HeldLock = { pid: l.pid, lock: l.lock, file: l.file, type: 'write', waiting: false, since: 0, stuck: false };
  return blocksCommit(held, wal);
}

const UNKNOWN: HolderClass = { kind: 'other', label: 'unknown process', self: false };

export class HoldTracker {
  /** Every hold kept, oldest first; the open ones are also in `open`. */
  private holds: LockHold[] = [];
  private readonly open = new Map<string, LockHold>();
  private lastAt: number | undefined;
  private blockingAtLast = false;
  /** Time since the first sample during which some other process held a lock that blocks the proxy. */
  blockedMsTotal = 0;
  onHoldEnd?: (h: LockHold) => void;

  constructor(
    private readonly historyMs = DEFAULT_HISTORY_MS,
    private readonly maxHolds = MAX_HOLDS,
  ) {}

  /** Takes one sample. `nameOf` answers for every PID in it; `wal` is the journal mode at that moment. */
  update(at: number, locks: readonly SampledLock[], nameOf: (pid: number) => HolderClass | undefined, wal: boolean): void {
    // Counted sample to sample, like the holds themselves: held at one sample, held until the next.
    if (this.lastAt !== undefined && this.blockingAtLast) this.blockedMsTotal += at - this.lastAt;
    const seen = new Set<string>();
    for (const l of locks) {
      const cls = nameOf(l.pid) ?? UNKNOWN;
      if (isNoise(l.lock, wal, cls)) continue;
      const key = `${l.pid}|${l.lock}`;
      seen.add(key);
      const held = this.open.get(key);
      if (held) {
        held.lastSeen = at;
        continue;
      }
      const h: LockHold = { pid: l.pid, holder: cls.label, kind: cls.kind, lock: l.lock, start: at, lastSeen: at, blocksProxy: blocksProxy(l, wal, cls) };
      this.open.set(key, h);
      this.holds.push(h);
    }
    for (const [key, h] of this.open) {
      if (seen.has(key)) continue;
      h.end = at;
      this.open.delete(key);
      this.onHoldEnd?.(h);
    }
    this.blockingAtLast = false;
    for (const h of this.open.values()) this.blockingAtLast ||= h.blocksProxy;
    this.lastAt = at;
    this.trim(at);
  }

  /**
   * Sampling stopped: the open holds end here, marked, since nobody saw them released.
   * The next sample after a restart begins them anew.
   */
  stop(at: number): void {
    for (const h of this.open.values()) {
      h.end = at;
      h.stoppedWhileHeld = true;
      this.onHoldEnd?.(h);
    }
    this.open.clear();
    this.lastAt = undefined;
    this.blockingAtLast = false;
  }

  /** Holds overlapping [from, to], as copies, oldest first. */
  between(from: number, to: number): LockHold[] {
    const out: LockHold[] = [];
    for (const h of this.holds) if (h.start <= to && (h.end ?? to) >= from) out.push({ ...h });
    return out;
  }

  /** All holds kept (the objects themselves: read only). */
  all(): readonly LockHold[] {
    return this.holds;
  }

  private trim(now: number): void {
    const cutoff = now - this.historyMs;
    // The oldest closed hold (open ones at the front are few: locks held right now).
    const first = this.holds.find((h) => h.end !== undefined);
    const stale = first?.end !== undefined && first.end < cutoff;
    // A tenth over the cap before trimming: one pass per few thousand holds, not per sample.
    if (!stale && this.holds.length <= this.maxHolds * 1.1) return;
    // One pass that keeps open holds whatever their age: they are still happening.
    let kept = this.holds.filter((h) => h.end === undefined || h.end >= cutoff);
    if (kept.length > this.maxHolds) {
      let drop = kept.length - this.maxHolds;
      kept = kept.filter((h) => h.end === undefined || drop-- <= 0);
    }
    this.holds = kept;
  }
}
