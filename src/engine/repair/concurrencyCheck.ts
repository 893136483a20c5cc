// The runbook's verification step "run concurrent write test", for a repo whose proxy
// has no such test at hand: several writer processes hammer a COPY of the database with
// the long-term fix's settings, and we count busy errors. The live DB is only read
// (by the online backup).
import { fork } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { backupDatabase } from './backup';
import type { ProgressEvent } from '../../shared/model';
import type { ConcurrencyResult, WriterSummary } from '../../shared/model';

export interface ConcurrencyOptions {
  writers?: number;
  seconds?: number;
  /** dist/writer.js; the server passes the one beside it. */
  writerScript: string;
  onProgress?: (e: ProgressEvent) => void;
}

export async function concurrencyCheck(dbPath: string, opts: ConcurrencyOptions): Promise<ConcurrencyResult> {
  const writers = opts.writers ?? 4;
  const seconds = opts.seconds ?? 5;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tracedb-verify-'));
  try {
    opts.onProgress?.({ message: 'Copying the database for the write test…' });
    const copy = path.join(dir, 'traces.db');
    await backupDatabase(dbPath, { out: copy, onProgress: opts.onProgress });
    opts.onProgress?.({ message: `${writers} writers for ${seconds} s with WAL, busy_timeout 5000, synchronous NORMAL…` });
    const results = await Promise.all(Array.from({ length: writers }, () => runOne(opts.writerScript, copy, seconds)));
    const commits = results.reduce((n, r) => n + r.commits, 0);
    const busyErrors = results.reduce((n, r) => n + r.busyErrors, 0);
    const errors = results.flatMap((r) => r.otherErrors);
    const p99Ms = Math.max(...results.map((r) => r.p99));
    const ok = busyErrors === 0 && errors.length === 0 && commits > 0;
    return {
      ok,
      writers,
      seconds,
      commits,
      busyErrors,
      commitsPerSecond: Math.round(commits / seconds),
      p99Ms: Math.round(p99Ms * 10) / 10,
      errors,
      message: ok
        ? `${writers} concurrent writers committed ${commits} traces in ${seconds} s (${Math.round(commits / seconds)}/s, p99 ${p99Ms.toFixed(1)} ms) with no "database is locked".`
        : `${busyErrors} "database is locked" errors and ${errors.length} other errors among ${writers} concurrent writers (${commits} commits). ${errors[0] ?? 'Raise the busy timeout and look for long transactions in the proxy.'}`,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function runOne(script: string, db: string, seconds: number): Promise<WriterSummary> {
  return new Promise((resolve, reject) => {
    // fork() reuses this process's runtime: under VS Code that is Electron running as Node.
    const child = fork(script, [db, String(seconds)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as WriterSummary);
      else reject(new Error(`writer exited ${code}: ${err.trim()}`));
    });
  });
}
