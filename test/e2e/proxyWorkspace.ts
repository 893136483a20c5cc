// A TraceForge checkout for the end-to-end scenarios: its DB where the real proxy keeps it,
// the proxy running as a user runs it, and what the scenarios read back from the DB.
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO } from './harness';
import { BIG_ROWS, copyBigTraceDb } from '../fixtures/bigDb';
import { openFixtureDb, tempDir } from '../support/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeSuiteWorkspace } = require('../fixtures/suiteWorkspace.cjs') as {
  writeSuiteWorkspace(
    root: string,
    repo: string,
    opts?: { rows?: number; journalMode?: string; proxyCommands?: boolean; db?: boolean; rate?: number },
  ): Promise<{ root: string; proxyDir: string; db: string }>;
};

/** A TraceForge checkout: the DB at packages/proxy/.ai-tests/traces.db, where the real proxy keeps it. */
export async function workspace(
  opts: { journalMode?: string; rows?: number; proxyCommands?: boolean; rate?: number } = {},
): Promise<{ root: string; proxyDir: string; db: string }> {
  return writeSuiteWorkspace(tempDir('tracedb-e2e-'), REPO, {
    rows: opts.rows ?? 300,
    journalMode: opts.journalMode ?? 'delete',
    proxyCommands: opts.proxyCommands,
    rate: opts.rate,
  });
}

/** The same checkout with the 757 MiB, 200,000-trace rollback-journal DB (test/fixtures/bigDb.ts). */
export async function bigWorkspace(rate: number): Promise<{ root: string; proxyDir: string; db: string; rows: number }> {
  const w = await writeSuiteWorkspace(tempDir('tracedb-e2e-big-'), REPO, { db: false, rate });
  await copyBigTraceDb(w.proxyDir);
  return { ...w, rows: BIG_ROWS };
}

export async function journalMode(db: string): Promise<string> {
  const c = await openFixtureDb(db);
  const row = await c.get('PRAGMA journal_mode');
  await c.close();
  return String(row.journal_mode);
}

export async function rowCount(db: string): Promise<number> {
  const c = await openFixtureDb(db);
  const row = await c.get('SELECT count(*) AS n FROM traces');
  await c.close();
  return Number(row.n);
}

/**
 * The proxy as a user runs it: `node dist/index.js` in packages/proxy (the stand-in behind
 * it writes `rate` traces/s with the real proxy's 5 s busy timeout). Stops on SIGTERM and
 * tells how many traces it stored and how many "database is locked" it met.
 */
export function startProxy(proxyDir: string): { child: ChildProcess; stop(): Promise<{ stored: number; locked: number }> } {
  const child = spawn(process.execPath, ['dist/index.js'], { cwd: proxyDir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return {
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => {
          const m = /stopped: stored (\d+), lock errors (\d+)/.exec(out);
          resolve({ stored: Number(m?.[1] ?? NaN), locked: Number(m?.[2] ?? NaN) });
        });
        child.kill('SIGTERM');
      }),
  };
}
