// Commits per second without a SQLite connection, from counters SQLite bumps on every
// commit:
// - rollback journal: the database header's file change counter (bytes 24–27, big-endian),
//   which every write transaction increments;
// - WAL: the wal-index header at the start of the -shm, whose `iChange` (a u32 at byte 8
//   of the first WalIndexHdr copy, native byte order) is bumped by every commit. Seen
//   here: 10 inserts took it 1 → 11, a 2-row transaction 11 → 12, a TRUNCATE checkpoint
//   left it, and a reopen after the last connection closed rebuilt the -shm from 0.
//   The writer writes the second copy first and this one last, so it is the committed one.
// Both are read with pread on plain descriptors, one read a second at most.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { withFileGate } from '../sqlite/fileGate';

const HEADER_BYTES = 28;
const WAL_INDEX_CHANGE_OFFSET = 8;

export interface CounterReading {
  at: number;
  /** The header says WAL (bytes 18–19 both 2); undefined when the header could not be read. */
  wal?: boolean;
  /** The counter of the mode in use; undefined when unreadable (no -shm yet, say). */
  counter?: number;
  /** Which counter `counter` is, and of which file: a change means it started over. */
  source?: string;
  walBytes: number;
}

const readU32 = os.endianness() === 'LE' ? (b: Buffer, o: number) => b.readUInt32LE(o) : (b: Buffer, o: number) => b.readUInt32BE(o);

/** Reads up to `len` bytes at 0 of a regular file; undefined when it is missing, not a regular file, or short. */
function readStart(file: string, len: number): { buf: Buffer; ino: bigint } | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO in the database's place must not hang the sampler.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(len);
    return fs.readSync(fd, buf, 0, len, 0) === len ? { buf, ino: st.ino } : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One reading. Through the file gate: closing a descriptor of the database or its -shm
 * would drop this process's own SQLite locks on it, were a connection of the doctor's open.
 */
export function readCounters(dbPath: string, at: number): Promise<CounterReading> {
  return withFileGate(dbPath, async () => {
    // SQLite names the companions after the resolved path, so a symlinked database's -shm is beside its target.
    let real: string;
    try {
      real = fs.realpathSync.native(dbPath);
    } catch {
      return { at, walBytes: 0 };
    }
    const walBytes = fs.statSync(`${real}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    const head = readStart(real, HEADER_BYTES);
    if (!head || head.buf.toString('latin1', 0, 15) !== 'SQLite format 3') return { at, walBytes };
    const wal = head.buf[18] === 2 && head.buf[19] === 2;
    if (!wal) return { at, wal, counter: head.buf.readUInt32BE(24), source: `db:${head.ino}`, walBytes };
    const shm = readStart(`${real}-shm`, WAL_INDEX_CHANGE_OFFSET + 4);
    if (!shm) return { at, wal, walBytes };
    return { at, wal, counter: readU32(shm.buf, WAL_INDEX_CHANGE_OFFSET), source: `shm:${shm.ino}`, walBytes };
  });
}

/** Commits between readings, one point per reading, bounded by age and count. */
export class CommitSeries {
  private points: [number, number][] = [];
  private last: CounterReading | undefined;
  /** Commits counted since the first reading. */
  total = 0;
  /** The last reading's mode and WAL size, for the metrics. */
  wal: boolean | undefined;
  walBytes = 0;

  constructor(
    private readonly historyMs: number,
    private readonly maxPoints = 7200,
  ) {}

  add(r: CounterReading): void {
    this.wal = r.wal ?? this.wal;
    this.walBytes = r.walBytes;
    const prev = this.last;
    this.last = r;
    if (r.counter === undefined || !prev) return;
    let commits: number;
    if (prev.counter === undefined) {
      // A WAL database whose -shm did not exist a moment ago: the first connection built it, counting from 0.
      if (!(prev.wal === true && r.source?.startsWith('shm:'))) return;
      commits = r.counter;
    } else if (prev.source !== r.source) {
      // Another file or another counter (a switch to WAL, a recreated -shm): a fresh -shm
      // counts from 0, anything else gives no baseline.
      commits = r.source?.startsWith('shm:') && prev.source?.startsWith('shm:') ? r.counter : 0;
    } else if (r.counter >= prev.counter) {
      commits = r.counter - prev.counter;
    } else {
      // Backwards: the -shm was rebuilt in place (recovery), counting from 0 again.
      commits = r.counter;
    }
    this.total += commits;
    this.points.push([r.at, commits]);
    const cutoff = r.at - this.historyMs;
    if (this.points.length > this.maxPoints || this.points[0][0] < cutoff) {
      this.points = this.points.filter((p) => p[0] >= cutoff).slice(-this.maxPoints);
    }
  }

  /** Points with a time in [from, to], as copies. */
  between(from: number, to: number): [number, number][] {
    return this.points.filter((p) => p[0] >= from && p[0] <= to).map((p) => [p[0], p[1]]);
  }
}
