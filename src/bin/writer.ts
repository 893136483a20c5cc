// dist/writer.js: one writer of the concurrency check. Opens the copy with the settings
// the runbook's long-term fix gives the proxy (WAL, busy_timeout 5000, synchronous
// NORMAL), inserts traces as fast as it can for the given time, and prints a summary.
import { randomUUID } from 'node:crypto';
import { isBusy, openConnection } from '../engine/sqlite/connection';
import type { WriterSummary } from '../shared/model';

/** Values for the columns a TraceForge proxy fills; any other NOT NULL column gets ''. */
function rowFor(columns: { name: string; notnull: number; dflt_value: unknown }[]): { sql: string; values: () => unknown[] } {
  const known: Record<string, () => unknown> = {
    id: () => randomUUID(),
    timestamp: () => new Date().toISOString(),
    endpoint: () => '/v1/chat/completions',
    request: () => JSON.stringify({ model: 'tracedb-doctor-check', messages: [{ role: 'user', content: 'concurrency check' }] }),
    response: () => null,
    metadata: () => JSON.stringify({ model: 'tracedb-doctor-check', status: 'success', duration_ms: 1, tokens_used: 0 }),
    created_at: () => Math.floor(Date.now() / 1000),
    step_id: () => randomUUID(),
    schema_version: () => 1,
  };
  const used = columns.filter((c) => known[c.name] || (c.notnull && c.dflt_value === null));
  const makers = used.map((c) => known[c.name] ?? (() => ''));
  return {
    sql: `INSERT INTO traces (${used.map((c) => `"${c.name}"`).join(', ')}) VALUES (${used.map(() => '?').join(', ')})`,
    values: () => makers.map((m) => m()),
  };
}

export async function runWriter(dbPath: string, seconds: number): Promise<WriterSummary> {
  const c = await openConnection(dbPath, { readonly: false, busyTimeoutMs: 5000 });
  try {
    await c.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    const row = rowFor(await c.all('SELECT name, "notnull", dflt_value FROM pragma_table_info(\'traces\')'));
    const latencies: number[] = [];
    let busyErrors = 0;
    const otherErrors: string[] = [];
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      const t = performance.now();
      try {
        await c.run(row.sql, row.values());
        latencies.push(performance.now() - t);
      } catch (e) {
        if (isBusy(e)) busyErrors++;
        else if (otherErrors.length < 5) otherErrors.push(String((e as Error).message));
      }
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
    return { commits: latencies.length, busyErrors, otherErrors, p50: pct(0.5), p99: pct(0.99) };
  } finally {
    await c.close();
  }
}

if (require.main === module) {
  const [dbPath, seconds] = process.argv.slice(2);
  runWriter(dbPath, Number(seconds)).then(
    (s) => process.stdout.write(JSON.stringify(s) + '\n'),
    (e) => {
      process.stderr.write(String((e as Error).message) + '\n');
      process.exitCode = 1;
    },
  );
}
