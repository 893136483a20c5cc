// One look at who holds which SQLite lock on one database, cheap enough to take ten
// times a second: /proc/locks (one small file) filtered to the inodes of the database
// and its -shm, decoded by lockBytes.ts. Nothing here opens the database or its -shm,
// so nothing here can take a lock or drop one of this process's own (see fileGate.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeSqliteLocks, splitDev } from '../locks/lockBytes';
import { parseProcLocks } from '../locks/procLocks';
import { ProcLocksFile } from './procLocksFile';
import type { LockedFile, SqliteLockName } from '../../shared/model';

/** One SQLite lock one process holds, as one sample saw it. */
export interface SampledLock {
  pid: number;
  lock: SqliteLockName;
  file: LockedFile;
}

export interface LockView {
  at: number;
  /** Shared with later samples that see the same: read only. */
  locks: readonly SampledLock[];
  /** False when this system shows no /proc/locks: nothing can be seen. */
  visible: boolean;
}

interface Target {
  role: LockedFile;
  ino: bigint;
  /** `:INODE ` as /proc/locks prints it after the device. */
  needle: string;
  major: number;
  minor: number;
}

/** Inodes are re-read this often: the database can be replaced, and a -shm comes and goes with WAL connections. */
const RESTAT_MS = 2000;

export class LockSampler {
  private readonly locksFile: ProcLocksFile;
  private readonly procRoot: string;
  private targets: Target[] = [];
  /** The database's real path, as /proc/PID/fd links name it. */
  private realPath: string | undefined;
  private statAt = -Infinity;
  /** The last sample's lines for our inodes and what they decoded to. */
  private lastLines: string | undefined;
  private lastLocks: readonly SampledLock[] = [];
  /**
   * PID → whether it has the database open, for lock lines whose device differs from the
   * file's (overlayfs lists the upper layer's device): an inode number alone could be any
   * file on any disk, so such a line counts only for a process with the file open.
   */
  private readonly openCheck = new Map<number, boolean>();

  constructor(
    readonly dbPath: string,
    procRoot = '/proc',
  ) {
    this.procRoot = procRoot;
    this.locksFile = new ProcLocksFile(`${procRoot}/locks`);
  }

  /** The database's inodes again on the next sample (after a switch of journal mode, say). */
  restatSoon(): void {
    this.statAt = -Infinity;
  }

  sample(at: number): LockView {
    if (at - this.statAt >= RESTAT_MS) this.restat(at);
    const text = this.locksFile.read();
    if (text === undefined) return { at, locks: [], visible: false };
    if (!this.targets.length) return { at, locks: [], visible: true };
    const lines = this.linesFor(text);
    if (!lines) return { at, locks: [], visible: true };
    // Most samples see what the last one saw (an idle connection, a long hold): decoded once.
    if (lines === this.lastLines) return { at, locks: this.lastLocks, visible: true };
    const found = new Map<string, SampledLock>();
    for (const line of parseProcLocks(lines)) {
      // SQLite's unix VFS never waits in the kernel (F_SETLK), so a blocked request is someone else's.
      if (line.waiting || line.pid <= 0) continue;
      const target = this.targets.find((t) => t.ino === line.inode);
      if (!target) continue;
      if ((target.major !== line.major || target.minor !== line.minor) && !this.hasOpen(line.pid)) continue;
      for (const d of decodeSqliteLocks(line, target.role)) found.set(`${line.pid}|${d.lock}`, { pid: line.pid, lock: d.lock, file: target.role });
    }
    this.lastLines = lines;
    this.lastLocks = [...found.values()];
    return { at, locks: this.lastLocks, visible: true };
  }

  close(): void {
    this.locksFile.close();
  }

  /** Only the lines naming our inodes: parsing every line of a busy machine's table ten times a second is the cost to avoid. */
  private linesFor(text: string): string | undefined {
    let out: string | undefined;
    for (const t of this.targets) {
      for (let i = text.indexOf(t.needle); i >= 0; i = text.indexOf(t.needle, i + 1)) {
        const start = text.lastIndexOf('\n', i) + 1;
        const nl = text.indexOf('\n', i);
        const line = text.slice(start, nl < 0 ? text.length : nl);
        out = out === undefined ? line : `${out}\n${line}`;
      }
    }
    return out;
  }

  private restat(at: number): void {
    this.statAt = at;
    this.openCheck.clear();
    this.lastLines = undefined;
    let real: string;
    try {
      real = fs.realpathSync.native(this.dbPath);
    } catch {
      this.targets = [];
      this.realPath = undefined;
      return;
    }
    this.realPath = real;
    const targets: Target[] = [];
    for (const role of ['db', 'shm'] as const) {
      const st = fs.statSync(role === 'db' ? real : `${real}-shm`, { bigint: true, throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      targets.push({ role, ino: st.ino, needle: `:${st.ino} `, ...splitDev(st.dev) });
    }
    this.targets = targets;
  }

  private hasOpen(pid: number): boolean {
    const known = this.openCheck.get(pid);
    if (known !== undefined) return known;
    const real = this.realPath ?? path.resolve(this.dbPath);
    const names = new Set([real, `${real}-shm`]);
    const dir = `${this.procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = fs.readdirSync(dir);
    } catch {
      fds = []; // another user's process, or gone
    }
    const open = fds.some((fd) => {
      try {
        return names.has(fs.readlinkSync(`${dir}/${fd}`));
      } catch {
        return false;
      }
    });
    this.openCheck.set(pid, open);
    return open;
  }
}
