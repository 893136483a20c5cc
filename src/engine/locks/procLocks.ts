// Linux's /proc/locks, which names every POSIX lock by PID and inode: how the doctor
// sees who holds which SQLite lock without opening the database.

export type ProcLockKind = 'POSIX' | 'OFDLCK' | 'FLOCK' | 'LEASE' | 'DELEG' | (string & {});

/** One line of /proc/locks. */
export interface ProcLockLine {
  id: number;
  /** A blocked request (`->`): the process waits for this lock, it does not hold it. */
  waiting: boolean;
  kind: ProcLockKind;
  type: 'read' | 'write';
  /** As the kernel shows it in our PID namespace; 0 or -1 when it cannot (other namespace, some OFD locks). */
  pid: number;
  major: number;
  minor: number;
  /** bigint: overlay and btrfs inode numbers can exceed 2^53. */
  inode: bigint;
  start: number;
  /** Inclusive; Infinity for `EOF`. */
  end: number;
}

// "12: -> POSIX  ADVISORY  WRITE 2561 fe:00:2146450 1073741825 EOF". Deeper waiters
// only get more leading spaces, so one pattern covers every nesting level.
const PROC_LOCK_LINE = /^(\d+):\s*((?:->\s*)+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-fA-F]+):([0-9a-fA-F]+):(\d+)\s+(\d+)\s+(\d+|EOF)\s*$/;

export function parseProcLocks(text: string): ProcLockLine[] {
  const out: ProcLockLine[] = [];
  for (const line of text.split('\n')) {
    const m = PROC_LOCK_LINE.exec(line);
    if (!m) continue; // "<none>" devices, lease states we do not model, blank lines
    const type = m[4] === 'READ' ? 'read' : m[4] === 'WRITE' ? 'write' : undefined;
    if (!type) continue; // UNLCK / NONE: a lease being broken, not a lock anyone holds
    out.push({
      id: Number(m[1]),
      waiting: m[2] !== undefined,
      kind: m[3],
      type,
      pid: Number(m[5]),
      major: parseInt(m[6], 16),
      minor: parseInt(m[7], 16),
      inode: BigInt(m[8]),
      start: Number(m[9]),
      end: m[10] === 'EOF' ? Infinity : Number(m[10]),
    });
  }
  return out;
}
