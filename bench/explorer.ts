// The trace explorer's queries on the 1M-trace DB (DESIGN.md § Performance targets):
// first page, a deep page (keyset, never OFFSET), filtered pages and a full-text search,
// each beside the sqlite3 CLI running the very SQL the engine ran (captured by the
// engine's trace hook, parameters expanded).
import { existsSync } from 'node:fs';
import { fixture, log, sleep, stats, type Stats } from './common';
import { SQLITE3, timeCli } from './sqliteCli';
import { setSqlTraceHook } from '../src/engine/sqlite/connection';
import { listTraces } from '../src/engine/traces/listTraces';
import type { TracePageParams } from '../src/shared/traceModel';

export interface ExplorerCase {
  name: string;
  doctor: Stats;
  cli?: Stats;
  rows: number;
  sql: string;
}

async function cursorAt(db: string, offset: number): Promise<{ key: string; rowid: number }> {
  const c = await fixture.open(db);
  // Only the benchmark uses OFFSET: to find where "page 10,000" starts.
  const r = (await c.get(`SELECT timestamp, rowid FROM traces ORDER BY timestamp DESC, rowid DESC LIMIT 1 OFFSET ${offset}`)) as
    { timestamp: string; rowid: number } | undefined;
  await c.close();
  if (!r) throw new Error(`no row at offset ${offset}`);
  return { key: r.timestamp, rowid: r.rowid };
}

export async function runExplorerBench(db: string, rows: number, runs: number, gapMs: number): Promise<ExplorerCase[]> {
  const deep = await cursorAt(db, Math.floor(rows / 2));
  const cases: [string, TracePageParams][] = [
    ['first page (50, newest first)', { limit: 50 }],
    [`deep page (50, after row ${Math.floor(rows / 2).toLocaleString('en-US')})`, { limit: 50, after: deep }],
    ['filtered page: model = gpt-4o', { limit: 50, filter: { model: 'gpt-4o' } }],
    ['filtered page: status = error', { limit: 50, filter: { status: 'error' } }],
    ['full-text search "incident" (FTS5)', { limit: 50, filter: { search: 'incident' } }],
    ['full-text search "slowest AND endpoints" (FTS5)', { limit: 50, filter: { search: 'slowest AND endpoints' } }],
  ];
  const out: ExplorerCase[] = [];
  for (const [name, params] of cases) {
    log(`  explorer: ${name}…`);
    let sql = '';
    setSqlTraceHook((s) => {
      if (/FROM traces/.test(s) && /ORDER BY/.test(s)) sql = s;
    });
    let got = 0;
    const once = async () => {
      const t0 = performance.now();
      const page = await listTraces(db, params);
      got = page.rows.length;
      return performance.now() - t0;
    };
    await once();
    setSqlTraceHook(undefined);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      await sleep(gapMs);
      samples.push(await once());
    }
    const cli = sql ? await timeCli(db, sql + ';', Math.min(runs, 10), gapMs).catch(() => undefined) : undefined;
    out.push({ name, doctor: stats(samples), ...(cli ? { cli } : {}), rows: got, sql });
  }
  return out;
}

export function explorerTable(cases: ExplorerCase[], cliBaselineMs?: number): string {
  const lines = [
    '| Explorer query (1,000,000 traces) | Trace DB Doctor (engine, in process) | sqlite3 CLI, same SQL | ratio | Target |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const c of cases) {
    const ratio = c.cli ? (c.doctor.median / c.cli.median).toFixed(2) + '×' : '–';
    const target = /search/.test(c.name) ? '≤ 150 ms' : '≤ 1.5 × CLI';
    const met = /search/.test(c.name) ? c.doctor.median <= 150 : c.cli ? c.doctor.median <= 1.5 * c.cli.median : undefined;
    lines.push(
      `| ${c.name}: ${c.rows} rows | median ${c.doctor.median.toFixed(1)} ms · p95 ${c.doctor.p95.toFixed(1)} ms | ${c.cli ? `median ${c.cli.median.toFixed(1)} ms` : existsSync(SQLITE3) ? 'n/a (SQL not captured)' : `n/a (${SQLITE3} missing)`} | ${ratio} | ${target} ${met === undefined ? '' : met ? '✅' : '❌'} |`,
    );
  }
  if (cliBaselineMs !== undefined) lines.push('', `The CLI figures include starting sqlite3 (${cliBaselineMs.toFixed(1)} ms for \`select 1\`).`);
  return lines.join('\n');
}
