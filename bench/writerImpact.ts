// Writer impact (DESIGN.md § Rules 1 and § Performance targets): what a proxy
// committing 200 traces/s suffers while the doctor looks at its database.
//
// In rollback-journal mode every SQLite reader holds a SHARED lock that makes the
// writer's commit wait (busy timeout) or fail (no busy timeout). The doctor's
// passive poll opens no connection at all on such a DB, so it must cost the writer
// nothing; a full check opens one short read transaction, which a writer with a
// busy timeout must absorb within a few ms. The runbook's own
// `sqlite3 traces.db "SELECT COUNT(*) FROM traces;"` is the control: it scans the
// whole table under SHARED and a writer without busy timeout fails.
//
// Interleaved rounds: the machine is shared (2 cores; other people's test runs
// come and go), and a writer's commit latency follows fsync and CPU availability.
// Seen here with a browser test suite running next to us: the same "writer alone"
// run gave p99 5 ms, then 59 ms, then 74 ms; another time 4 ms, then 127 ms. So each
// scenario's ~15 s is split into rounds (a b c d e, a b c d e, …): each loaded slot
// sits next to its baseline, and the added p99 is the median over rounds of
// (loaded p99 − baseline p99) of the same round, which cancels slow drift in the
// background load and outvotes a stall that hits a minority of rounds. (a) and (c)
// differ only in busy timeout, which matters only under contention: their
// difference is an A/A comparison, i.e. the noise floor of this machine.
import * as os from 'node:os';
import { Inspector } from '../src/engine/diagnose/inspect';
import { log, sleep, stats, type Stats } from './common';
import { COUNT_SQL, runCliAsync } from './sqliteCli';
import { startWriter, type WriterSummary } from './writer';

export type LoadKind = 'none' | 'doctor-passive+full' | 'doctor-passive' | 'runbook-count';

export interface Scenario {
  id: string;
  label: string;
  busyTimeoutMs: number;
  load: LoadKind;
  /** The scenario whose p99 this one is compared with. */
  baseline?: string;
}

export const SCENARIOS: Scenario[] = [
  { id: 'a', label: 'writer alone (busy timeout 5 s)', busyTimeoutMs: 5000, load: 'none' },
  { id: 'b', label: 'doctor: passive poll 1/s + full check 1/s (busy timeout 5 s)', busyTimeoutMs: 5000, load: 'doctor-passive+full', baseline: 'a' },
  { id: 'c', label: 'writer alone (busy timeout 0)', busyTimeoutMs: 0, load: 'none' },
  { id: 'd', label: 'doctor: passive poll 1/s (busy timeout 0)', busyTimeoutMs: 0, load: 'doctor-passive', baseline: 'c' },
  { id: 'e', label: 'control: runbook `sqlite3 … COUNT(*)` 2/s (busy timeout 0)', busyTimeoutMs: 0, load: 'runbook-count', baseline: 'c' },
];

export interface LoadResult {
  /** Checks / commands that ran (and how many ticks were skipped because the last one was still running). */
  runs: number;
  skipped: number;
  /** Doctor checks that found the DB unreachable (e.g. its own read hit a lock), or CLI runs that failed. */
  failures: number;
  /** Raw durations, ms, per kind of job ('passive', 'full', 'sqlite3'). */
  samples: Record<string, number[]>;
}

/** One writer run of one scenario. */
export interface Slot {
  writer: WriterSummary;
  load?: LoadResult;
  /** 1-minute load average at the end of the slot: how busy the shared machine was. */
  loadAvg: number;
}

/** A scenario over all its rounds. */
export interface ScenarioResult {
  scenario: Scenario;
  slots: Slot[];
  commits: number;
  /** Commits per second the writer achieved (200 is the target rate). */
  rate: number;
  busyErrors: number;
  otherErrors: string[];
  /** Medians over rounds of each round's p50 / p99; max over all. */
  p50: number;
  p99: number;
  max: number;
  /** Median over rounds of (this p99 − the baseline scenario's p99 in the same round). */
  addedP99?: number;
  load?: { runs: number; skipped: number; failures: number; durations: Record<string, Stats> };
}

/** A periodic job that never overlaps itself: a tick that finds the last run busy is skipped and counted. */
function every(periodMs: number, offsetMs: number, job: () => Promise<boolean>) {
  const durations: number[] = [];
  let skipped = 0;
  let failures = 0;
  let inFlight: Promise<void> | undefined;
  const tick = () => {
    if (inFlight) {
      skipped++;
      return;
    }
    const t0 = performance.now();
    inFlight = job()
      .then(
        (ok) => {
          if (!ok) failures++;
        },
        () => {
          failures++;
        },
      )
      .then(() => {
        durations.push(performance.now() - t0);
        inFlight = undefined;
      });
  };
  let interval: NodeJS.Timeout | undefined;
  const start = setTimeout(() => {
    tick();
    interval = setInterval(tick, periodMs);
  }, offsetMs);
  return async () => {
    clearTimeout(start);
    if (interval) clearInterval(interval);
    await inFlight;
    return { runs: durations.length, skipped, failures, durations };
  };
}

function startLoad(kind: LoadKind, db: string): () => Promise<LoadResult | undefined> {
  switch (kind) {
    case 'none':
      return async () => undefined;
    case 'doctor-passive': {
      const inspector = new Inspector(db);
      const stop = every(1000, 0, async () => (await inspector.check({ mode: 'passive' })).reachable);
      return async () => {
        const r = await stop();
        return { runs: r.runs, skipped: r.skipped, failures: r.failures, samples: { passive: r.durations } };
      };
    }
    case 'doctor-passive+full': {
      // One Inspector, as the server keeps one per database; the full check half a
      // second after each poll, as if a user pressed Check Health every second.
      const inspector = new Inspector(db);
      const stopPassive = every(1000, 0, async () => (await inspector.check({ mode: 'passive' })).reachable);
      const stopFull = every(1000, 500, async () => (await inspector.check({ mode: 'full' })).reachable);
      return async () => {
        const [p, f] = await Promise.all([stopPassive(), stopFull()]);
        return {
          runs: p.runs + f.runs,
          skipped: p.skipped + f.skipped,
          failures: p.failures + f.failures,
          samples: { passive: p.durations, full: f.durations },
        };
      };
    }
    case 'runbook-count': {
      const stop = every(500, 0, async () => (await runCliAsync(db, COUNT_SQL)).code === 0);
      return async () => {
        const r = await stop();
        return { runs: r.runs, skipped: r.skipped, failures: r.failures, samples: { sqlite3: r.durations } };
      };
    }
  }
}

export async function runSlot(db: string, scenario: Scenario, durationMs: number, rate: number): Promise<Slot> {
  const writer = await startWriter(db, { rate, busyTimeoutMs: scenario.busyTimeoutMs });
  const stopLoad = startLoad(scenario.load, db);
  await sleep(durationMs);
  const summary = await writer.stop();
  const load = await stopLoad();
  return { writer: summary, ...(load ? { load } : {}), loadAvg: os.loadavg()[0] };
}

const median = (xs: number[]) => stats(xs).median;

function aggregate(scenario: Scenario, slots: Slot[]): ScenarioResult {
  const commits = slots.reduce((n, s) => n + s.writer.committed.length, 0);
  const elapsed = slots.reduce((n, s) => n + s.writer.elapsedMs, 0);
  const loads = slots.map((s) => s.load).filter((l): l is LoadResult => l !== undefined);
  let load: ScenarioResult['load'];
  if (loads.length) {
    const samples: Record<string, number[]> = {};
    for (const l of loads) for (const [k, v] of Object.entries(l.samples)) (samples[k] ??= []).push(...v);
    load = {
      runs: loads.reduce((n, l) => n + l.runs, 0),
      skipped: loads.reduce((n, l) => n + l.skipped, 0),
      failures: loads.reduce((n, l) => n + l.failures, 0),
      durations: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)])),
    };
  }
  return {
    scenario,
    slots,
    commits,
    rate: commits / (elapsed / 1000),
    busyErrors: slots.reduce((n, s) => n + s.writer.busyErrors, 0),
    otherErrors: slots.flatMap((s) => s.writer.otherErrors),
    p50: median(slots.map((s) => s.writer.p50)),
    p99: median(slots.map((s) => s.writer.p99)),
    max: Math.max(...slots.map((s) => s.writer.max)),
    ...(load ? { load } : {}),
  };
}

export async function runWriterImpact(db: string, scenarios: Scenario[], msPerScenario: number, rate: number, rounds: number): Promise<ScenarioResult[]> {
  const slotMs = msPerScenario / rounds;
  const slots = new Map<string, Slot[]>(scenarios.map((s) => [s.id, []]));
  for (let round = 1; round <= rounds; round++) {
    log(`  round ${round}/${rounds}: ${scenarios.map((s) => s.id).join(' ')}, ${(slotMs / 1000).toFixed(1)} s each at ${rate}/s`);
    for (const s of scenarios) {
      const slot = await runSlot(db, s, slotMs, rate);
      slots.get(s.id)!.push(slot);
      const w = slot.writer;
      const load = slot.load
        ? `; load ${slot.load.runs} runs, ${slot.load.failures} failed, ` +
          Object.entries(slot.load.samples)
            .map(([k, v]) => `${k} median ${stats(v).median.toFixed(1)} ms`)
            .join(', ')
        : '';
      log(
        `    (${s.id}) ${w.committed.length} commits, busy ${w.busyErrors}, p50 ${w.p50.toFixed(2)} / p99 ${w.p99.toFixed(2)} / max ${w.max.toFixed(1)} ms` +
          `${load}; loadavg ${slot.loadAvg.toFixed(2)}` +
          (w.otherErrors.length ? `; other errors: ${w.otherErrors.slice(0, 3).join('; ')}` : ''),
      );
      // A moment for the writer's last fsyncs to clear before the next slot.
      await sleep(500);
    }
  }
  const results = scenarios.map((s) => aggregate(s, slots.get(s.id)!));
  for (const r of results) {
    const base = r.scenario.baseline ? results.find((x) => x.scenario.id === r.scenario.baseline) : undefined;
    if (base) r.addedP99 = median(r.slots.map((slot, i) => slot.writer.p99 - base.slots[i].writer.p99));
  }
  return results;
}
