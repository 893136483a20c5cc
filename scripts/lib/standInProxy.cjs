'use strict';
// The demo's stand-in for the TraceForge proxy: stores a trace every 1000/rate ms the
// way an older proxy did (rollback journal, no busy timeout), and logs each
// "database is locked" to packages/proxy/logs/error.log as pino JSON.
//   node standInProxy.cjs DB LOG [--rate N]
const fs = require('node:fs');
const path = require('node:path');
const { open, makeTrace, bind, INSERT_SQL } = require('../../test/fixtures/traceforge.cjs');

const [dbPath, logPath, ...rest] = process.argv.slice(2);
const rate = Number(rest[rest.indexOf('--rate') + 1] || 20);
if (!dbPath || !logPath) {
  console.error('usage: standInProxy.cjs DB LOG [--rate N]');
  process.exit(2);
}
fs.mkdirSync(path.dirname(logPath), { recursive: true });
const log = (level, msg, extra) => fs.appendFileSync(logPath, JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, ...extra }) + '\n');

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => (stopping = true));

(async () => {
  const db = await open(dbPath);
  db.db.configure('busyTimeout', 0); // the old proxy set none: the runbook's problem
  console.log(`stand-in proxy ${process.pid}: writing ${rate} traces/s to ${dbPath}`);
  let i = 0;
  let stored = 0;
  let locked = 0;
  while (!stopping) {
    try {
      await db.run(INSERT_SQL, bind(makeTrace(i++)));
      stored++;
    } catch (e) {
      if (/locked|BUSY/.test(String(e.message))) {
        locked++;
        log(50, 'failed to store trace', { err: { message: 'SqliteError: database is locked', code: 'SQLITE_BUSY' } });
      } else log(50, 'failed to store trace', { err: { message: String(e.message) } });
    }
    if (i % (rate * 10) === 0) console.log(`stored ${stored}, database is locked ${locked}`);
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await db.close();
  console.log(`stand-in proxy stopped: stored ${stored}, database is locked ${locked}`);
})().catch((e) => {
  log(60, 'proxy crashed', { err: { message: String(e && e.message) } });
  console.error(e);
  process.exit(1);
});
