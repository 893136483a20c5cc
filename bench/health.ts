// Health check time (DESIGN.md § Performance targets: ≤ 50 ms, flat in DB size).
//
// Each series uses one Inspector, as the doctor server does (it keeps the previous
// lock sample for stuck detection), runs once to warm up (page cache, module
// loading, first /proc walk) and then `runs` times, RUN_GAP_MS apart. Reads only:
// it runs on the pristine cached DB.
//
// Why the gap: the check is never called back to back in real use (a poll every
// 1-2 s, or a click), and on this VM a call after an idle pause takes about twice
// as long as one right after another (measured: passive 10 ms back to back, 18-19 ms
// with 200 ms or 1 s pauses; CPU caches and the vCPU go cold). Timing back to back
// would flatter the doctor.
import { Inspector, type CheckOptions } from '../src/engine/diagnose/inspect';
import type { HealthReport } from '../src/shared/model';
import { sleep, stats, type Stats } from './common';

/** Pause before each timed call (the sqlite3 CLI series use the same). */
export const RUN_GAP_MS = 250;

export interface DoctorSeries extends Stats {
  /** The last report, to check what the series actually did (count, findings). */
  last: HealthReport;
}

export async function timeDoctor(db: string, opts: CheckOptions, runs: number): Promise<DoctorSeries> {
  const inspector = new Inspector(db);
  await inspector.check(opts);
  const samples: number[] = [];
  let last: HealthReport | undefined;
  for (let i = 0; i < runs; i++) {
    await sleep(RUN_GAP_MS);
    const t0 = performance.now();
    last = await inspector.check(opts);
    samples.push(performance.now() - t0);
  }
  if (!last) throw new Error('no runs');
  if (!last.reachable) throw new Error(`health check (${opts.mode}) found ${db} unreachable: ${last.unreachableReason}`);
  return { ...stats(samples), last };
}

/** A short description of what the report says, to print beside the timing. */
export function describeReport(r: HealthReport): string {
  const count = r.traceCount ? `${r.traceCount.value.toLocaleString('en-US')} traces (${r.traceCount.estimate ? 'estimate' : 'exact'})` : 'no count';
  return `journal ${r.journalMode} via ${r.journalModeSource}; ${count}; findings: ${r.findings.map((f) => f.code).join(', ') || 'none'}`;
}
