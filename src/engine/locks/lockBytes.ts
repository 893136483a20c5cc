// What a kernel lock on the database or its -shm means to SQLite: the unix VFS takes
// its locks on fixed bytes, so a byte range names the SQLite lock, and the locks say
// who stops the proxy's commits.
import type { HeldLock, Holder, LockedFile, SqliteLockName } from '../../shared/model';

// The unix VFS lock bytes (sqlite os_unix.c / os.h): they sit at 1 GiB so that they
// never overlap real data in a database smaller than that.
const PENDING_BYTE = 0x40000000;
const RESERVED_BYTE = PENDING_BYTE + 1;
const SHARED_FIRST = PENDING_BYTE + 2;
const SHARED_LAST = SHARED_FIRST + 510 - 1;
// -shm: UNIX_SHM_BASE = 120, then the WAL's 8 lock slots, then the DMS byte.
const SHM_WRITE = 120;
const SHM_CKPT = 121;
const SHM_RECOVER = 122;
const SHM_READ_FIRST = 123;
const SHM_READ_LAST = 127;
const SHM_DMS = 128;

export interface LockRange {
  type: 'read' | 'write';
  start: number;
  end: number;
}

export interface DecodedLock {
  lock: SqliteLockName;
  type: 'read' | 'write';
}

/**
 * SQLite lock names covered by one kernel lock. The kernel merges adjacent ranges of
 * one type from one process (an EXCLUSIVE writer shows as a single WRITE from
 * PENDING to the end of the SHARED range), so every region the range touches counts.
 */
export function decodeSqliteLocks(range: LockRange, file: LockedFile): DecodedLock[] {
  const hits = (lo: number, hi: number) => range.start <= hi && range.end >= lo;
  const write = range.type === 'write';
  const names: SqliteLockName[] = [];
  if (file === 'db') {
    // A READ on PENDING is unix VFS checking, for the moment it takes SHARED, that no
    // writer is pending: gone microseconds later, and no lock in SQLite's sense.
    if (write && hits(PENDING_BYTE, PENDING_BYTE)) names.push('PENDING');
    if (write && hits(RESERVED_BYTE, RESERVED_BYTE)) names.push('RESERVED');
    if (hits(SHARED_FIRST, SHARED_LAST)) names.push(write ? 'EXCLUSIVE' : 'SHARED');
  } else {
    // Read locks on 120-122 are rare (read-only shm, snapshots) but still block the
    // writer, checkpointer or recoverer, so they keep their slot's name.
    if (hits(SHM_WRITE, SHM_WRITE)) names.push('WAL_WRITE');
    if (hits(SHM_CKPT, SHM_CKPT)) names.push('CHECKPOINT');
    if (hits(SHM_RECOVER, SHM_RECOVER)) names.push('RECOVER');
    if (hits(SHM_READ_FIRST, SHM_READ_LAST)) names.push('WAL_READ');
    // A WRITE on the DMS byte is the first connection initialising (or recovering) the shm.
    if (hits(SHM_DMS, SHM_DMS)) names.push(write ? 'RECOVER' : 'WAL_OPEN');
  }
  return [...new Set(names)].map((lock) => ({ lock, type: range.type }));
}

/** Strongest first: the order a holder's locks and a sample's locks are listed in. */
export const LOCK_ORDER: readonly SqliteLockName[] = [
  'EXCLUSIVE',
  'PENDING',
  'RESERVED',
  'SHARED',
  'WAL_WRITE',
  'CHECKPOINT',
  'RECOVER',
  'WAL_READ',
  'WAL_OPEN',
];

/**
 * glibc's major()/minor() on a stat dev (the 64-bit encoding, so bigint), to match a
 * file to the device /proc/locks names. The masks are 32-bit, as in glibc: an
 * unbounded ~0xff would pull the major's high bits into the minor.
 */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

// ---------------------------------------------------------------- the blocker

/**
 * WAL or rollback journal, from the locks alone: every WAL connection keeps WAL_OPEN
 * on the -shm, and a rollback-journal database has no -shm locks at all. Reading the
 * header instead would mean opening the database, and closing that descriptor drops
 * this process's own POSIX locks on it (see fileGate.ts).
 */
export function walInUse(locks: readonly HeldLock[]): boolean {
  return locks.some((l) => l.file === 'shm');
}

/** Whether a held lock keeps the proxy from committing its next trace. */
export function blocksCommit(l: HeldLock, wal: boolean): boolean {
  if (l.waiting) return false;
  if (l.file === 'db') {
    // In WAL mode every open connection keeps SHARED: only in rollback mode does a
    // reader stop the writer (it cannot take EXCLUSIVE to commit).
    return l.lock === 'RESERVED' || l.lock === 'PENDING' || l.lock === 'EXCLUSIVE' || (l.lock === 'SHARED' && !wal);
  }
  // WAL_WRITE is the one writer slot. A checkpoint alone (CHECKPOINT) does not stop
  // commits; FULL/RESTART/TRUNCATE checkpoints that do also take WAL_WRITE.
  return l.lock === 'WAL_WRITE';
}

/**
 * The holders with `blocker` decided: another process holding a lock that stops
 * the proxy's commits. The proxy, its launcher and the doctor never are: they are
 * not what the user should stop to unblock the proxy.
 */
export function markBlockers(holders: readonly Holder[], locks: readonly HeldLock[], wal: boolean): Holder[] {
  const blocking = new Set(locks.filter((l) => blocksCommit(l, wal)).map((l) => l.pid));
  return holders.map((h) => ({
    ...h,
    blocker: blocking.has(h.pid) && !h.self && h.kind !== 'doctor' && h.kind !== 'proxy' && h.kind !== 'proxy-launcher',
  }));
}
