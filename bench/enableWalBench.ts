// Enable WAL on a live 1M-trace DB (DESIGN.md § Rules 3; target < 2 s, zero rows lost).
//
// The writer (200/s, 5 s busy timeout) keeps committing before, during and after
// the switch; after it stops we count the rows and look up every id it reported
// as committed. Runs on a fresh copy of the pristine DB, so the expected count is
// exactly the pristine rows + the writer's commits.
import { enableWal } from '../src/engine/repair/enableWal';
import type { EnableWalResult } from '../src/shared/model';
import { fixture, log, sleep } from './common';
import { startWriter, type WriterSummary } from './writer';

export interface EnableWalBench {
  result: EnableWalResult;
  writer: WriterSummary;
  expectedRows: number;
  countedRows: number;
  missingIds: number;
  /** Journal mode a fresh connection reports after everything closed. */
  finalMode: string;
}

/** Ids looked up per query: well under SQLite's default limit of 32766 host parameters. */
const ID_BATCH = 500;

export async function runEnableWal(db: string, pristineRows: number, rate: number): Promise<EnableWalBench> {
  const writer = await startWriter(db, { rate, busyTimeoutMs: 5000 });
  await sleep(2000); // the proxy has been running for a while
  log(`  enableWal with the writer at ${rate}/s…`);
  const result = await enableWal(db, { timeoutMs: 10_000 });
  log(`    ${result.message}`);
  await sleep(2000); // and keeps committing, now into the WAL
  const summary = await writer.stop();

  const conn = await fixture.open(db);
  try {
    const countedRows = Number((await conn.get('SELECT count(*) AS n FROM traces'))?.n);
    let found = 0;
    for (let i = 0; i < summary.committed.length; i += ID_BATCH) {
      const ids = summary.committed.slice(i, i + ID_BATCH);
      const r = await conn.get(`SELECT count(*) AS n FROM traces WHERE id IN (${ids.map(() => '?').join(',')})`, ids);
      found += Number(r?.n);
    }
    const finalMode = String((await conn.get('PRAGMA journal_mode'))?.journal_mode);
    return {
      result,
      writer: summary,
      expectedRows: pristineRows + summary.committed.length,
      countedRows,
      missingIds: summary.committed.length - found,
      finalMode,
    };
  } finally {
    await conn.close();
  }
}
