// Online backup through SQLite's backup API: a consistent copy taken while the proxy
// keeps writing. In WAL mode one pass inside one read transaction never blocks the
// writer. In rollback-journal mode each step holds a SHARED lock, so the copy goes
// in small steps with pauses between them, and restarts when the proxy commits.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { withFileGate } from './fileGate';
import { readHeader } from './header';
import { startBackup, withConnection, type SqliteBackup } from './sqlite';
import type { BackupResult, ProgressEvent } from './types';
import { DoctorError } from './errors';

export interface BackupOptions {
  /** Destination file; default `<db folder>/backups/<name>-<UTC stamp>.db`. */
  out?: string;
  onProgress?: (e: ProgressEvent) => void;
  /** Give up after this long (a rollback-journal DB under heavy writes may keep restarting). */
  maxMs?: number;
  busyTimeoutMs?: number;
}

const STEP_PAGES = 256;
const PAUSE_MS = 5;

export function defaultBackupPath(dbPath: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = path.basename(dbPath).replace(/\.(db|sqlite3?)$/i, '');
  return path.join(path.dirname(dbPath), 'backups', `${base}-${stamp}.db`);
}

export async function backupDatabase(dbPath: string, opts: BackupOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  const out = path.resolve(opts.out ?? defaultBackupPath(dbPath));
  const head = await withFileGate(dbPath, () => readHeader(dbPath)).catch((e: NodeJS.ErrnoException) => {
    throw new DoctorError(`Cannot back up ${dbPath}: ${e.code === 'ENOENT' ? 'no such file' : e.message}.`);
  });
  if (!head.header) throw new DoctorError(`Cannot back up ${dbPath}: it is not a readable SQLite database (${head.problem.kind}).`);
  if (await exists(out)) throw new DoctorError(`The backup file ${out} already exists; choose another name.`);
  await fs.mkdir(path.dirname(out), { recursive: true });
  const wal = head.header.wal;
  const maxMs = opts.maxMs ?? 10 * 60 * 1000;
  let restarts = 0;
  let pages = 0;

  try {
    await withFileGate(dbPath, () =>
      withConnection(dbPath, { readonly: true, busyTimeoutMs: opts.busyTimeoutMs ?? 250 }, async (src) => {
        const b = await startBackup(src, out);
        let stepPages = wal ? -1 : STEP_PAGES;
        let lastRemaining = Infinity;
        try {
          while (!b.completed) {
            if (b.failed) throw new DoctorError('SQLite reported the backup as failed.');
            if (performance.now() - started > maxMs) {
              throw new DoctorError(`The backup did not finish within ${Math.round(maxMs / 1000)} s: the proxy kept changing the database. Enable WAL mode (backups never wait then), or stop the proxy for a moment and try again.`);
            }
            await step(b, stepPages);
            pages = b.pageCount;
            if (b.remaining > lastRemaining) {
              // The proxy committed between steps: SQLite started over. Bigger steps finish
              // sooner at the cost of holding SHARED longer (still well under a busy timeout).
              restarts++;
              stepPages = Math.min(stepPages * 2, 16384);
            }
            lastRemaining = b.remaining;
            if (b.pageCount > 0) {
              opts.onProgress?.({
                message: `Copied ${b.pageCount - b.remaining} of ${b.pageCount} pages${restarts ? ` (restarted ${restarts}×: the proxy is writing)` : ''}`,
                percent: Math.round(((b.pageCount - b.remaining) / b.pageCount) * 100),
              });
            }
            if (!b.completed && !wal) await new Promise((r) => setTimeout(r, PAUSE_MS));
          }
        } finally {
          await new Promise<void>((r) => b.finish(() => r()));
        }
      }),
    );
  } catch (e) {
    await fs.rm(out, { force: true });
    if (e instanceof DoctorError) throw e;
    throw new DoctorError(`The backup of ${dbPath} failed: ${(e as Error).message}.`);
  }
  const st = await fs.stat(out);
  return {
    ok: true,
    path: out,
    bytes: st.size,
    pages,
    durationMs: Math.round(performance.now() - started),
    restarts,
    message: `Backed up ${path.basename(dbPath)} to ${out} (${(st.size / 1024 / 1024).toFixed(1)} MiB${restarts ? `, restarted ${restarts}× while the proxy wrote` : ''}).`,
  };
}

function step(b: SqliteBackup, pages: number): Promise<void> {
  return new Promise((res, rej) => b.step(pages, (err) => (err ? rej(err) : res())));
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
