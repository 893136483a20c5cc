// One results table (markdown, ready to paste into README.md), printed to stdout and
// written to bench/results.md with the machine and date, so a number can always be
// traced back to where and when it was measured.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { RESULTS_MD, bytes, ms, seconds, stats, type Stats } from './common';
import type { EnableWalBench } from './enableWalBench';
import { RUN_GAP_MS, type DoctorSeries } from './health';
import type { TraceDb } from './makeDb';
import type { ScenarioResult } from './writerImpact';

export const HEALTH_TARGET_MS = 50;
export const ADDED_P99_TARGET_MS = 5;
export const ENABLE_WAL_TARGET_MS = 2000;

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  /** The SQLite the doctor runs (bundled in @vscode/sqlite3). */
  sqliteLib: string;
  /** Debian's CLI, the reference; undefined when not installed. */
  sqliteCli?: string;
  os: string;
  date: string;
  /** 1-minute load average when the bench started: other work on a shared machine shows in every figure. */
  loadAvgAtStart: number;
}

export interface HealthResults {
  passiveBig: DoctorSeries;
  fullBig: DoctorSeries;
  exactBig: DoctorSeries;
  passiveSmall: DoctorSeries;
  fullSmall: DoctorSeries;
  /** sqlite3 CLI columns; undefined without the CLI. */
  cli?: { start: Stats; full: Stats; count: Stats; fullSmall: Stats };
}

export interface Results {
  machine: Machine;
  big: TraceDb;
  small: TraceDb;
  health: HealthResults;
  writer: ScenarioResult[];
  wal: EnableWalBench;
  writerSeconds: number;
  totalMs: number;
}

const ok = (pass: boolean) => (pass ? '✅ met' : '❌ missed');
const series = (s: Stats) => `median ${ms(s.median)} · p95 ${ms(s.p95)} (${s.runs} runs)`;
const n = (v: number) => v.toLocaleString('en-US');

/** 1,000,000 → "1M", 1,000 → "1k". */
export function rowsLabel(rows: number): string {
  if (rows % 1_000_000 === 0) return `${rows / 1_000_000}M`;
  if (rows % 1000 === 0) return `${rows / 1000}k`;
  return String(rows);
}

/** Flat in DB size: the 1M-trace median within max(5 ms, 1.5×) of the 1k-trace one. */
function flat(big: Stats, small: Stats): boolean {
  return big.median <= Math.max(small.median + 5, small.median * 1.5);
}

export function resultsTable(r: Results): string {
  const h = r.health;
  const cli = h.cli;
  const noCli = 'not installed';
  const rows: string[][] = [];
  const big = `${n(r.big.rows)} traces`;
  const small = `${n(r.small.rows)} traces`;

  rows.push([
    `Health check, passive (${big})`,
    series(h.passiveBig),
    'n/a: opens no SQLite connection',
    `≤ ${HEALTH_TARGET_MS} ms (p95)`,
    ok(h.passiveBig.p95 <= HEALTH_TARGET_MS),
  ]);
  rows.push([
    `Health check, passive (${small})`,
    series(h.passiveSmall),
    'n/a',
    'flat in DB size',
    `${ok(flat(h.passiveBig, h.passiveSmall))} (${rowsLabel(r.big.rows)}/${rowsLabel(r.small.rows)} median ${(h.passiveBig.median / h.passiveSmall.median).toFixed(2)}×)`,
  ]);
  rows.push([
    `Health check, full, estimated count (${big})`,
    series(h.fullBig),
    cli ? series(cli.full) : noCli,
    `≤ ${HEALTH_TARGET_MS} ms (p95)`,
    ok(h.fullBig.p95 <= HEALTH_TARGET_MS),
  ]);
  rows.push([
    `Health check, full, estimated count (${small})`,
    series(h.fullSmall),
    cli ? series(cli.fullSmall) : noCli,
    'flat in DB size',
    `${ok(flat(h.fullBig, h.fullSmall))} (${rowsLabel(r.big.rows)}/${rowsLabel(r.small.rows)} median ${(h.fullBig.median / h.fullSmall.median).toFixed(2)}×)`,
  ]);
  rows.push([`Health check, full, exact \`count(*)\` (${big})`, series(h.exactBig), cli ? series(cli.count) : noCli, 'on request only (no target)', '–']);
  rows.push(['`sqlite3 :memory: "select 1"` (CLI process start, included in every CLI figure)', '–', cli ? series(cli.start) : noCli, '–', '–']);

  for (const s of r.writer) {
    const byRound = s.slots.map((slot) => slot.writer.p99.toFixed(1)).join(' / ');
    const added = s.addedP99 !== undefined ? ` · **p99 ${s.addedP99 >= 0 ? '+' : ''}${s.addedP99.toFixed(2)} ms vs (${s.scenario.baseline})**` : '';
    const text =
      `**${s.busyErrors} busy errors** · ${n(s.commits)} commits (${s.rate.toFixed(0)}/s) · ` +
      `p50 ${ms(s.p50, 2)} · p99 ${ms(s.p99, 2)} · max ${ms(s.max)}${added} · p99 by round ${byRound} ms` +
      (s.otherErrors.length ? ` · ${s.otherErrors.length} other errors` : '') +
      loadText(s);
    let target = 'baseline';
    let status = '–';
    if (s.scenario.load === 'doctor-passive+full' || s.scenario.load === 'doctor-passive') {
      target = `0 busy errors, < +${ADDED_P99_TARGET_MS} ms p99`;
      status = ok(s.busyErrors === 0 && (s.addedP99 ?? Infinity) < ADDED_P99_TARGET_MS);
    } else if (s.scenario.load === 'runbook-count') {
      target = 'control: what the doctor must not do';
      status = s.busyErrors > 0 ? 'fails, as expected' : 'no failures this run';
    }
    rows.push([`Writer at 200/s, ${r.writerSeconds} s (${s.slots.length} rounds) (${s.scenario.id}): ${s.scenario.label}`, text, '–', target, status]);
  }

  const wal = r.wal;
  rows.push([
    `Enable WAL, live ${big} DB, writer 200/s (busy timeout 5 s)`,
    `${wal.result.ok ? 'switched' : 'FAILED'} in ${ms(wal.result.durationMs, 0)} · ${wal.result.attempts} attempt${wal.result.attempts === 1 ? '' : 's'} · writer: ${wal.writer.busyErrors} busy errors, p99 ${ms(wal.writer.p99, 2)}, max ${ms(wal.writer.max)}`,
    '–',
    `< ${ENABLE_WAL_TARGET_MS / 1000} s`,
    ok(wal.result.ok && wal.result.durationMs < ENABLE_WAL_TARGET_MS),
  ]);
  rows.push([
    'Rows lost by Enable WAL',
    `${wal.expectedRows - wal.countedRows === 0 && wal.missingIds === 0 ? '0' : 'LOST'}: count(*) ${n(wal.countedRows)} = ${n(r.big.rows)} + ${n(wal.writer.committed.length)} committed? ${wal.countedRows === wal.expectedRows ? 'yes' : 'NO'}; committed ids missing: ${wal.missingIds}; mode after: ${wal.finalMode}`,
    '–',
    '0',
    ok(wal.countedRows === wal.expectedRows && wal.missingIds === 0 && wal.finalMode === 'wal'),
  ]);

  const header = ['Measurement', 'Trace DB Doctor', 'sqlite3 CLI', 'Target', 'Result'];
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(esc).join(' | ')} |`)].join('\n');
}

/** What ran next to the writer, as the table says it. */
function loadText(s: ScenarioResult): string {
  const l = s.load;
  if (!l) return '';
  const d = l.durations;
  const fmt = (k: string) => (d[k] ? `${k} median ${ms(d[k].median)} (max ${ms(d[k].max)})` : '');
  const skipped = l.skipped ? `, ${l.skipped} ticks skipped (previous still running)` : '';
  if (d.sqlite3) {
    return ` · load: ${l.runs} sqlite3 runs, ${l.failures} failed themselves (locked)${skipped}, ${fmt('sqlite3')}`;
  }
  return ` · load: ${l.runs} doctor checks, ${l.failures} unreachable${skipped}; ${['passive', 'full'].map(fmt).filter(Boolean).join(', ')}`;
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.os}; Node ${m.node}; SQLite ${m.sqliteLib} (doctor, @vscode/sqlite3)${m.sqliteCli ? `, sqlite3 CLI ${m.sqliteCli}` : ', no sqlite3 CLI'}`;
}

export function machineInfo(sqliteLib: string, sqliteCli: string | undefined): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    node: process.version,
    sqliteLib,
    ...(sqliteCli ? { sqliteCli } : {}),
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    loadAvgAtStart: os.loadavg()[0],
  };
}

/** A/A noise: per-round p99 of (c) minus (a), both "writer alone". */
function noiseFloor(r: Results): string {
  const a = r.writer.find((s) => s.scenario.id === 'a');
  const c = r.writer.find((s) => s.scenario.id === 'c');
  if (!a || !c) return 'n/a';
  const d = a.slots.map((slot, i) => Math.abs(c.slots[i].writer.p99 - slot.writer.p99));
  const st = stats(d);
  return `median ${st.median.toFixed(1)} ms, largest ${st.max.toFixed(1)} ms`;
}

function loadAvgRange(r: Results): string {
  const l = r.writer.flatMap((s) => s.slots.map((slot) => slot.loadAvg));
  return l.length ? `${Math.min(...l).toFixed(2)}–${Math.max(...l).toFixed(2)}` : 'n/a';
}

/** Writes bench/results.md and returns its text. */
export function writeResults(r: Results, table: string): string {
  const dbLine = (db: TraceDb) =>
    `${n(db.rows)} traces, ${bytes(db.sizeBytes)} (rollback journal), built in ${seconds(db.buildMs)} on ${db.builtAt}${db.cached ? ' (cached from an earlier run)' : ''}`;
  const md = `# Benchmark results

Measured by \`npm run bench\` (bench/run.ts) on ${r.machine.date}.

- Machine: ${machineLine(r.machine)}; 1-minute load average at the start: ${r.machine.loadAvgAtStart.toFixed(2)}
- Large DB: ${dbLine(r.big)}
- Small DB: ${dbLine(r.small)}
- Whole bench run: ${seconds(r.totalMs)}

${table}

Notes:
- Health checks run in the bench process through the engine (\`new Inspector(db).check(...)\`), one Inspector per series,
  after one warm-up run, each run ${RUN_GAP_MS} ms after the last (as a poll or a click would be: back to back they run
  about twice as fast on warm caches); wall time per call. p95 is nearest-rank (for 20 runs: the 19th fastest).
- The sqlite3 CLI figures are the same reads (\`sqlite3 -readonly DB "…"\`), spawn to exit, so they include the
  process start shown in the \`select 1\` row. The passive check has no CLI equivalent: it reads the file header,
  file stats and /proc and opens no SQLite connection.
- Writer figures come from a separate process (test/fixtures/actor.cjs writer) inserting 200 traces/s into a
  copy of the large DB for ${r.writerSeconds} s per scenario, split into ${r.writer[0]?.slots.length ?? 0} interleaved rounds (a b c d e, a b c d e, …) so that
  a change in the shared machine's background load hits baseline and loaded runs alike. Latency is per commit;
  p50/p99 are medians over rounds, max is over all; busy errors are inserts that failed with SQLITE_BUSY (summed).
  "vs (a)" / "vs (c)" is the median over rounds of (p99 − the same round's p99 of the writer alone with the same
  busy timeout). 1-minute load average during the writer runs: ${loadAvgRange(r)} on ${r.machine.cores} cores
  (the writer and the bench account for about 1 of it; the rest is other work on the machine).
- Noise floor: (a) and (c) are both the writer alone (a busy timeout only matters under contention); their
  per-round p99s differ by ${noiseFloor(r)}. An added p99 within that is not the doctor's doing.
- Enable WAL runs on a fresh copy with the writer committing before, during and after the switch; after the writer
  stops, every id it reported committed is looked up.
`;
  fs.writeFileSync(RESULTS_MD, md);
  return md;
}
