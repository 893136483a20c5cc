// The reference: Debian's sqlite3 CLI doing the same reads as the doctor
// (DESIGN.md § Verified toolchain facts). Its wall time includes starting a
// process, so we also time `sqlite3 :memory: 'select 1'` as the baseline for that.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { sleep, stats, type Stats } from './common';

export const SQLITE3 = '/usr/bin/sqlite3';

/** The reads of a full health check (src/engine/inspect.ts readSql, estimate count). */
export const FULL_CHECK_SQL =
  "PRAGMA journal_mode; SELECT name FROM sqlite_master WHERE type='table'; SELECT name FROM pragma_table_info('traces'); PRAGMA user_version; SELECT max(rowid) FROM traces;";
/** The exact count, which is also RUNBOOK-002's own diagnostic command. */
export const COUNT_SQL = 'SELECT COUNT(*) FROM traces;';

export function cliVersion(): string | undefined {
  if (!fs.existsSync(SQLITE3)) return undefined;
  const r = spawnSync(SQLITE3, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(' ')[0] : undefined;
}

/**
 * Times `sqlite3 [-readonly] DB SQL` end to end (spawn to exit), synchronously: nothing
 * else runs meanwhile. -readonly opens the file the way the doctor does (and keeps the
 * pristine cached DB safe); it costs nothing measurable. Runs are `gapMs` apart, like
 * the doctor's series (see health.ts).
 */
export async function timeCli(db: string, sql: string, runs: number, gapMs: number, flags: string[] = ['-readonly']): Promise<Stats & { output: string }> {
  let output = '';
  const run = () => {
    const t0 = performance.now();
    const r = spawnSync(SQLITE3, [...flags, db, sql], { encoding: 'utf8' });
    const elapsed = performance.now() - t0;
    if (r.status !== 0) throw new Error(`sqlite3 ${db} "${sql}" failed (${r.status}): ${r.stderr}`);
    output = r.stdout;
    return elapsed;
  };
  run(); // warm-up, like the doctor's series: page cache and binary loaded
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await sleep(gapMs);
    samples.push(run());
  }
  return { ...stats(samples), output };
}

/** Runs `sqlite3 DB SQL` without blocking the event loop (the runbook's command as a load in scenario e). */
export function runCliAsync(db: string, sql: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(SQLITE3, [db, sql], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
