// The lock monitor's own cost (docs/DESIGN.md, "Performance targets": sampling /proc/locks
// ≤ 1% of one core at its default rate, and never a lock of its own): the engine's
// LockMonitor at 10 Hz in this process, while a writer standing in for the proxy commits
// 50 traces/s with a busy timeout of 0, so any lock the monitor took would show as a busy
// error. CPU is this process's process.cpuUsage() with the monitor on against the same
// with it off, in interleaved rounds while the writers run throughout.
//
//   npm run bench -- monitor [--monitor-seconds S] [--monitor-rate N] [--big]
//
// Alone it uses a fresh 1,000-trace database (the monitor reads /proc/locks and the first
// 28 bytes of the file, never its pages, so the size of the database does not enter);
// --big, or the full bench, uses a copy of the cached large database.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LockMonitor } from '../src/engine/monitor/lockMonitor';
import { ACTOR, RESULTS_MD, copyDb, fixture, log, removeDb, sleep, stats, type Stats } from './common';
import { startWriter, type Writer } from './writer';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const createTraceDb = (require('../test/fixtures/traceforge.cjs') as { createTraceDb(p: string, o: { rows: number; journalMode: string }): Promise<void> })
  .createTraceDb;

export const MONITOR_TARGET_PCT = 1;
const INTERVAL_MS = 100;
/** The writer's start and first commits are not the steady state. */
const SETTLE_MS = 3000;
const ROUNDS = 4;
const ROUND_SETTLE_MS = 1000;
const WARM_UP_MS = 3000;

export interface MonitorBenchOptions {
  seconds: number;
  rate: number;
  /** A database to copy (the cached large one); omitted: a fresh small one. */
  source?: { path: string; label: string };
}

export interface MonitorStateResult {
  journalMode: 'delete' | 'wal';
  /** % of one core: this process with the monitor on, and with it off (interleaved rounds). */
  cpuPct: number;
  baselinePct: number;
  /** The monitor's own share: on minus off, round by round (a load spike in one round does not carry the figure). */
  ownPct: Stats;
  samples: number;
  holds: number;
  commitsCounted: number;
  writerCommits: number;
  busyErrors: number;
}

export interface MonitorBenchResult {
  opts: MonitorBenchOptions;
  dbLabel: string;
  states: MonitorStateResult[];
  date: string;
  load: number[];
}

/** This process's CPU (ms) over `ms` of wall time. */
async function cpuOver(ms: number): Promise<{ cpu: number; ms: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1000, ms: performance.now() - t0 };
}

function addTo(total: { cpu: number; ms: number }, x: { cpu: number; ms: number }): void {
  total.cpu += x.cpu;
  total.ms += x.ms;
}

/** A folder laid out like TraceForge's packages/proxy, whose dist/index.js runs the writer: the monitor names it the proxy. */
function proxyDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-monitor-bench-'));
  const proxy = path.join(dir, 'packages', 'proxy');
  fs.mkdirSync(path.join(proxy, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(proxy, 'dist', 'index.js'), `require(${JSON.stringify(ACTOR)});\n`);
  return proxy;
}

async function database(opts: MonitorBenchOptions, journalMode: 'delete' | 'wal', dir: string): Promise<string> {
  if (!opts.source) {
    const db = path.join(dir, `traces-${journalMode}.db`);
    await createTraceDb(db, { rows: 1000, journalMode });
    return db;
  }
  const db = copyDb(opts.source.path, `work-monitor-${journalMode}.db`).path;
  if (journalMode === 'wal') {
    const c = await fixture.open(db);
    try {
      await c.exec('PRAGMA journal_mode=WAL');
    } finally {
      await c.close();
    }
  }
  return db;
}

interface State {
  journalMode: 'delete' | 'wal';
  db: string;
  writer: Writer | undefined;
  monitor: LockMonitor;
  off: { cpu: number; ms: number };
  on: { cpu: number; ms: number };
  /** Per round: % of one core on minus off. */
  diffs: number[];
  samples: number;
  commits: number;
  holds: number;
}

/** One round of a state: monitor off, then on (after settling), each `ms` long. */
async function round(s: State, ms: number): Promise<void> {
  const off = await cpuOver(ms);
  addTo(s.off, off);
  s.monitor.start();
  // Opening /proc/locks and naming the writer again after a restart is not the steady state.
  await sleep(ROUND_SETTLE_MS);
  const before = s.monitor.totals();
  const from = Date.now();
  const on = await cpuOver(ms);
  addTo(s.on, on);
  s.diffs.push((on.cpu / on.ms) * 100 - (off.cpu / off.ms) * 100);
  const after = s.monitor.totals();
  s.samples += after.samples - before.samples;
  s.commits += after.commits - before.commits;
  s.holds += s.monitor.snapshot(Date.now() - from).holds.length;
  s.monitor.stop();
}

/**
 * Both states at once, each database with its own writer, in interleaved rounds (rollback
 * off, on, WAL off, on, rollback off, …) after a warm-up of each: on this shared machine
 * a change of load, and V8 compiling the monitor's code, would otherwise land on one state
 * or one side of the comparison.
 */
export async function runMonitorBench(opts: MonitorBenchOptions): Promise<MonitorBenchResult> {
  const dbLabel = opts.source?.label ?? 'a fresh 1,000-trace database';
  log(`lock monitor at ${1000 / INTERVAL_MS} Hz: ${opts.seconds} s per state and side, writers ${opts.rate} traces/s with busy timeout 0, on ${dbLabel}`);
  const proxy = proxyDir();
  const states: State[] = [];
  const load: number[] = [];
  try {
    for (const journalMode of ['delete', 'wal'] as const) {
      const db = await database(opts, journalMode, path.dirname(path.dirname(proxy)));
      const s: State = {
        journalMode,
        db,
        writer: undefined,
        monitor: new LockMonitor(db, { intervalMs: INTERVAL_MS }),
        off: { cpu: 0, ms: 0 },
        on: { cpu: 0, ms: 0 },
        diffs: [],
        samples: 0,
        commits: 0,
        holds: 0,
      };
      states.push(s);
      s.writer = await startWriter(db, { rate: opts.rate, busyTimeoutMs: 0, entry: path.join(proxy, 'dist', 'index.js'), cwd: proxy });
    }
    await sleep(SETTLE_MS);
    for (const s of states) {
      s.monitor.start();
      await sleep(WARM_UP_MS);
      s.monitor.stop();
    }
    const roundMs = (opts.seconds * 1000) / ROUNDS;
    for (let i = 0; i < ROUNDS; i++) {
      for (const s of states) await round(s, roundMs);
      load.push(os.loadavg()[0]);
    }
    const results: MonitorStateResult[] = [];
    for (const s of states) {
      const w = await s.writer!.stop();
      s.writer = undefined;
      const r: MonitorStateResult = {
        journalMode: s.journalMode,
        cpuPct: (s.on.cpu / s.on.ms) * 100,
        baselinePct: (s.off.cpu / s.off.ms) * 100,
        ownPct: stats(s.diffs),
        samples: s.samples,
        holds: s.holds,
        commitsCounted: s.commits,
        writerCommits: w.committed.length,
        busyErrors: w.busyErrors,
      };
      log(
        `  ${s.journalMode}: monitor ${r.ownPct.median.toFixed(2)}% of one core (median of ${ROUNDS} rounds, ${s.diffs.map((d) => d.toFixed(2)).join(' / ')}); ` +
          `process ${r.cpuPct.toFixed(2)}% on, ${r.baselinePct.toFixed(2)}% off; ` +
          `${r.samples} samples, ${r.holds} holds seen, ${r.commitsCounted} commits counted; writer ${r.writerCommits} commits, ${r.busyErrors} busy errors`,
      );
      results.push(r);
    }
    return { opts, dbLabel, states: results, date: new Date().toISOString(), load };
  } finally {
    for (const s of states) {
      s.monitor.stop();
      if (s.writer) await s.writer.stop().catch(() => undefined);
      if (opts.source) removeDb(s.db);
    }
    fs.rmSync(path.dirname(path.dirname(proxy)), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the table

const MARK_START = '<!-- monitor:start -->';
const MARK_END = '<!-- monitor:end -->';

export function monitorTable(r: MonitorBenchResult): string {
  const rows = r.states.map((s) => {
    const own = s.ownPct.median;
    const verdict = `≤ ${MONITOR_TARGET_PCT}% ${own <= MONITOR_TARGET_PCT ? '✅' : '❌'}`;
    const mode = s.journalMode === 'wal' ? 'WAL' : 'rollback journal';
    return (
      `| ${mode}, writer ${r.opts.rate} traces/s | **${own.toFixed(2)}%** (rounds ${s.ownPct.min.toFixed(2)}–${s.ownPct.max.toFixed(2)}%; process ${s.cpuPct.toFixed(2)}% on, ${s.baselinePct.toFixed(2)}% off) | ` +
      `${s.samples} samples · ${s.holds} holds · ${s.commitsCounted} commits counted | ${s.busyErrors} busy errors in ${s.writerCommits} commits (busy timeout 0) | ${verdict} |`
    );
  });
  return `${MARK_START}
## Lock monitor (\`npm run bench -- monitor\`)

Measured on ${r.date}: the engine's LockMonitor sampling /proc/locks every ${INTERVAL_MS} ms (10 Hz, its default) in the
bench process, on ${r.dbLabel} in each journal mode, while a writer per database (test/fixtures/actor.cjs started as
packages/proxy/dist/index.js, so the monitor names it the proxy) commits ${r.opts.rate} traces/s in a process of its own with
a busy timeout of 0. CPU is the bench process's process.cpuUsage(), as % of one core, with both databases and writers running
throughout, in ${ROUNDS} interleaved rounds (rollback off, on, WAL off, on, …; ${r.opts.seconds} s per state and side in all,
1 s of settling after each start, after a ${WARM_UP_MS / 1000} s warm-up of each). The monitor's own share is on minus off,
round by round, and its median over the rounds. For scale: an empty 10 Hz setInterval alone cost 0.3% of one core on this
machine under load. 1-minute load average after each round: ${r.load.map((l) => l.toFixed(2)).join(', ')} on ${os.cpus().length} cores
(other work on this shared machine included).

| State | Monitor CPU, % of one core | What it saw | Writer (a lock of the monitor's would fail it) | Target |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
${MARK_END}`;
}

/** Puts the monitor section into bench/results.md, replacing an earlier one. */
export function writeMonitorSection(section: string): void {
  const old = fs.existsSync(RESULTS_MD) ? fs.readFileSync(RESULTS_MD, 'utf8') : '# Benchmark results\n';
  const start = old.indexOf(MARK_START);
  const end = old.indexOf(MARK_END);
  const next = start >= 0 && end > start ? `${old.slice(0, start)}${section}${old.slice(end + MARK_END.length)}` : `${old.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(RESULTS_MD, next);
}

/** The monitor section of the current results.md, to keep when the main bench rewrites the file. */
export function currentMonitorSection(): string | undefined {
  if (!fs.existsSync(RESULTS_MD)) return undefined;
  const old = fs.readFileSync(RESULTS_MD, 'utf8');
  const start = old.indexOf(MARK_START);
  const end = old.indexOf(MARK_END);
  return start >= 0 && end > start ? old.slice(start, end + MARK_END.length) : undefined;
}
