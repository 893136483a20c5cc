'use strict';
// The demo's stand-in for the TraceForge proxy, behaving as the real one does
// (shared/TRACEFORGE.md): it stores a trace every 1000/rate ms in the database an older
// proxy used (no pragmas: rollback journal unless somebody switched it), waits out a lock
// for better-sqlite3's default busy timeout of 5 s, and logs like fastify's pino logger
// through pino-pretty on stdout: `[HH:MM:ss UTC] INFO: incoming request`, then
// `ERROR: database is locked` with indented `reqId`/`err: { … "code": "SQLITE_BUSY" }`
// continuation lines when a save meets a lock. Such a request waits the timeout twice
// (its trace, then an error trace), as the real one does.
//
//   node standInProxy.cjs [DB [LOG]] [--rate N] [--busy-timeout MS]
//
// DB defaults to $TRACEFORGE_SQLITE_PATH, else `.ai-tests/traces.db` relative to the working
// directory (the proxy runs in packages/proxy). With LOG, each lock error is also appended
// there as a pino JSON line, and the last stdout line is the summary
// `stand-in proxy stopped: stored N, lock errors M` (tests read it; worded so that the
// doctor, which counts "database is locked" in this output, does not count it).
// --busy-timeout 0 reproduces the worst case: every concurrent write fails at once.
const fs = require('node:fs');
const path = require('node:path');
const { prettyEvent, requestFields, sqliteBusy } = require('./pinoPretty.cjs');
const { open, makeTrace, bind, SCHEMA, INSERT_SQL, LEGACY_INSERT_SQL } = require('../../test/fixtures/traceforge.cjs');

function parseArgs(argv) {
  const o = { positional: [], rate: 20, busyTimeout: 5000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rate') o.rate = Number(argv[++i]);
    else if (a === '--busy-timeout') o.busyTimeout = Number(argv[++i]);
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else o.positional.push(a);
  }
  if (!(o.rate > 0) || !(o.busyTimeout >= 0) || o.positional.length > 2) usage();
  return o;
}

function usage(why) {
  console.error(`${why ? `${why}\n` : ''}usage: standInProxy.cjs [DB [LOG]] [--rate N] [--busy-timeout MS]`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const dbPath = opts.positional[0] ?? process.env.TRACEFORGE_SQLITE_PATH ?? path.join('.ai-tests', 'traces.db');
const jsonLog = opts.positional[1];
if (jsonLog) fs.mkdirSync(path.dirname(jsonLog), { recursive: true });

// A closed stdout (the reader of a pipe went away) must not stop the proxy storing traces.
process.stdout.on('error', () => {});
const out = (level, msg, fields) => process.stdout.write(prettyEvent(level, msg, fields));
const jsonLine = (level, msg, extra) => {
  if (jsonLog) fs.appendFileSync(jsonLog, JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, ...extra }) + '\n');
};

// ---------------------------------------------------------------- the proxy

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => (stopping = true));

const isLock = (e) => /locked|BUSY/.test(String(e && e.message));

(async () => {
  const db = await open(dbPath);
  db.db.configure('busyTimeout', opts.busyTimeout);
  // A new database gets the schema, as the proxy creates it; an old one keeps its columns.
  const hasTraces = await db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'traces'");
  if (!hasTraces) await db.exec(SCHEMA);
  const columns = (await db.all('PRAGMA table_info(traces)')).map((c) => c.name);
  const legacy = !columns.includes('session_id');
  const save = (trace) => db.run(legacy ? LEGACY_INSERT_SQL : INSERT_SQL, bind(trace, legacy));

  out(30, `stand-in proxy: storing ${opts.rate} traces/s in ${dbPath} (busy timeout ${opts.busyTimeout} ms)`, { pid: process.pid });
  let i = 0;
  let stored = 0;
  let locked = 0;
  let lastReport = Date.now();
  while (!stopping) {
    const reqId = `req-${(i + 1).toString(36)}`;
    const trace = makeTrace(i++);
    const started = Date.now();
    out(30, 'incoming request', requestFields(reqId, trace.endpoint, 40000 + (i % 20000)));
    let status = 200;
    try {
      await save(trace);
      stored++;
    } catch (e) {
      status = 500;
      if (isLock(e)) {
        locked++;
        out(50, 'database is locked', { reqId, err: sqliteBusy(process.cwd()) });
        jsonLine(50, 'failed to store trace', { err: { message: 'SqliteError: database is locked', code: 'SQLITE_BUSY' } });
        // The proxy then stores an error trace for the request, and waits out the lock again.
        const errorTrace = makeTrace(i, { extra: '' });
        errorTrace.metadata = JSON.stringify({ ...JSON.parse(errorTrace.metadata), status: 'error', error: 'database is locked' });
        await save(errorTrace).then(
          () => stored++,
          () => {},
        );
      } else {
        out(50, String(e && e.message), { reqId, err: { type: 'Error', message: String(e && e.message) } });
        jsonLine(50, 'failed to store trace', { err: { message: String(e && e.message) } });
      }
    }
    out(30, 'request completed', { reqId, res: { statusCode: status }, responseTime: Math.round((Date.now() - started) * 10 + 7) / 10 });
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      out(30, `stand-in proxy: stored ${stored} traces, ${locked} lock errors so far`);
    }
    await new Promise((r) => setTimeout(r, 1000 / opts.rate));
  }
  await db.close();
  out(30, `stand-in proxy stopped after ${stored} traces (${locked} lock errors)`);
  if (jsonLog) console.log(`stand-in proxy stopped: stored ${stored}, lock errors ${locked}`);
})().catch((e) => {
  out(60, 'proxy crashed', { err: { type: 'Error', message: String(e && e.message) } });
  jsonLine(60, 'proxy crashed', { err: { message: String(e && e.message) } });
  process.exit(1);
});
