// Shared plumbing for `npm run bench`: where things live, the typed view of the
// plain-CommonJS fixture, statistics, and copies of the cached database.
//
// Progress goes to stderr and results to stdout, so `npm run bench > out.md`
// captures only the tables.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..');
/** Git-ignored; holds the pristine 1M-trace DB between runs (a few GB). */
export const CACHE_DIR = path.join(REPO, '.bench-cache');
export const ACTOR = path.join(REPO, 'test', 'fixtures', 'actor.cjs');
export const RESULTS_MD = path.join(REPO, 'bench', 'results.md');

// ---------------------------------------------------------------- the fixture

/** What we use of test/fixtures/traceforge.cjs (the same rows the tests and the demo use). */
export interface FixtureDb {
  /** The raw node-sqlite3 Database, for prepared statements. */
  db: {
    prepare(sql: string): FixtureStatement;
  };
  exec(sql: string): Promise<void>;
  get(sql: string, params?: unknown): Promise<Record<string, unknown> | undefined>;
  all(sql: string, params?: unknown): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export interface FixtureStatement {
  run(params: unknown, cb: (err: Error | null) => void): void;
  finalize(cb: () => void): void;
}

export interface Fixture {
  SCHEMA: string;
  INSERT_SQL: string;
  makeTrace(i: number, opts?: { now?: number; total?: number; spacingMs?: number; extra?: string; id?: string }): Record<string, unknown>;
  bind(trace: Record<string, unknown>, legacy?: boolean): Record<string, unknown>;
  open(path: string, mode?: number): Promise<FixtureDb>;
}

// A .cjs file without type declarations: require it and state its shape here
// (test/unit/helpers.ts does the same).
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const fixture = require('../test/fixtures/traceforge.cjs') as Fixture;

// ---------------------------------------------------------------- statistics

export interface Stats {
  runs: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Median and nearest-rank p95 (for 20 runs: the 19th fastest, i.e. one outlier allowed). */
export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { runs: 0, median: NaN, p95: NaN, min: NaN, max: NaN };
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const p95 = s[Math.min(n - 1, Math.ceil(0.95 * n) - 1)];
  return { runs: n, median, p95, min: s[0], max: s[n - 1] };
}

export function ms(v: number | undefined, digits = 1): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return `${v.toFixed(digits)} ms`;
}

export function seconds(msValue: number): string {
  return msValue >= 60_000 ? `${Math.floor(msValue / 60_000)} min ${Math.round((msValue % 60_000) / 1000)} s` : `${(msValue / 1000).toFixed(1)} s`;
}

export function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export const sleep = (msValue: number) => new Promise<void>((r) => setTimeout(r, msValue));

// ---------------------------------------------------------------- copies

/** The DB file and the side files SQLite may leave beside it. */
export function dbFiles(db: string): string[] {
  return [db, `${db}-journal`, `${db}-wal`, `${db}-shm`];
}

/**
 * Copies the pristine cached DB for a benchmark that writes to it (a writer, enable WAL).
 * COPYFILE_FICLONE is `cp --reflink=auto`: an instant clone where the filesystem can
 * (btrfs, xfs), a plain copy elsewhere (ext4).
 *
 * Then fsync: a plain copy leaves ~1.4 GB of dirty pages that the kernel writes back
 * over the next seconds, and every fsync the writer does meanwhile waits for them
 * (seen here: the first scenario's writer managed 118 commits/s, p99 65 ms, max 233 ms,
 * against ~190/s and p99 ~10 ms once flushed). Measure SQLite, not the page cache.
 */
export function copyDb(src: string, name: string): { path: string; ms: number } {
  const dest = path.join(CACHE_DIR, name);
  removeDb(dest);
  const t0 = performance.now();
  fs.copyFileSync(src, dest, fs.constants.COPYFILE_FICLONE);
  // No SQLite connection is open on the copy yet, so this descriptor cannot drop anyone's locks.
  const fd = fs.openSync(dest, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { path: dest, ms: performance.now() - t0 };
}

export function removeDb(db: string): void {
  for (const f of dbFiles(db)) fs.rmSync(f, { force: true });
}
