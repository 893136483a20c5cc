// The benchmark's trace databases, in TraceForge's schema (test/fixtures/traceforge.cjs),
// built once and cached in .bench-cache/.
//
// Building 1,000,000 rows through the fixture's own createTraceDb (1,000-row
// transactions, one await per row, a journal and fsyncs) would take far too long,
// so the build here uses the same SCHEMA, INSERT_SQL and makeTrace rows but:
// - journal_mode=OFF and synchronous=OFF: nothing to roll back into and no fsyncs;
//   a crash mid-build only loses the temp file, never the cache (see rename below);
// - big transactions over one prepared statement, many runs queued at once so the
//   main thread builds the next rows while SQLite's worker thread inserts;
// - a 1 GiB page cache so the random-UUID primary key and step_id indexes stay in memory.
// At the end journal_mode goes back to DELETE: the cached DB is the rollback-journal
// database RUNBOOK-002 is about (file header bytes 18-19 = 1).
//
// The build runs in a child process (this file run as a script): SQLite's page
// cache and the row objects leave ~1 GiB resident that glibc does not hand back,
// and fork() cost grows with the parent's resident memory (measured here: spawning
// `sqlite3 :memory: 'select 1'` took 2 ms from a 40 MiB process, 39 ms from a
// 1.1 GiB one), which would inflate every sqlite3 CLI figure the bench takes after.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR, bytes, fixture, log, removeDb, seconds } from './common';

/** Bump when the way the DB is built changes, so stale caches are rebuilt. */
const BUILD_VERSION = 1;
const ROWS_PER_TRANSACTION = 50_000;
/** Runs queued on the statement before waiting: enough to keep SQLite's thread busy, bounded memory. */
const QUEUE_DEPTH = 2_000;
/** One trace a second, newest last: 1M traces span about 11.6 days, like a busy proxy. */
const SPACING_MS = 1000;

export interface TraceDb {
  path: string;
  rows: number;
  sizeBytes: number;
  /** How long the build took (when it was built, possibly in an earlier run). */
  buildMs: number;
  builtAt: string;
  /** True when this run found it in the cache. */
  cached: boolean;
}

interface CacheMeta {
  key: string;
  rows: number;
  sizeBytes: number;
  buildMs: number;
  builtAt: string;
}

/** Identifies the content: a schema or row-shape change in the fixture invalidates the cache. */
function cacheKey(rows: number): string {
  const fixtureSource = fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'traceforge.cjs'));
  return createHash('sha256').update(`${BUILD_VERSION}\n${rows}\n`).update(fixtureSource).digest('hex').slice(0, 16);
}

/** Returns the cached DB with `rows` traces, building it first when missing or stale. */
export async function ensureTraceDb(rows: number): Promise<TraceDb> {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const name = rows % 1_000_000 === 0 ? `traces-${rows / 1_000_000}m.db` : rows % 1000 === 0 ? `traces-${rows / 1000}k.db` : `traces-${rows}.db`;
  const dbPath = path.join(CACHE_DIR, name);
  const metaPath = `${dbPath}.json`;
  const key = cacheKey(rows);

  const meta = readMeta(metaPath);
  if (meta && meta.key === key && meta.rows === rows && fs.existsSync(dbPath) && fs.statSync(dbPath).size === meta.sizeBytes) {
    log(`using cached ${name} (${bytes(meta.sizeBytes)}, built ${meta.builtAt} in ${seconds(meta.buildMs)})`);
    return { path: dbPath, rows, sizeBytes: meta.sizeBytes, buildMs: meta.buildMs, builtAt: meta.builtAt, cached: true };
  }

  removeDb(dbPath);
  fs.rmSync(metaPath, { force: true });
  log(`building ${name}: ${rows.toLocaleString('en-US')} traces (cached afterwards in ${path.relative(process.cwd(), CACHE_DIR)}/)`);
  await buildInChild(dbPath, rows);
  const built = readMeta(metaPath);
  if (!built || built.key !== key) throw new Error(`the build of ${name} left no valid ${path.basename(metaPath)}`);
  log(`built ${name}: ${bytes(built.sizeBytes)} in ${seconds(built.buildMs)}`);
  return { path: dbPath, rows, sizeBytes: built.sizeBytes, buildMs: built.buildMs, builtAt: built.builtAt, cached: false };
}

/** Runs this file as `--build DB ROWS` in a fresh Node (same TypeScript loader); progress shows on our stderr. */
function buildInChild(dbPath: string, rows: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, __filename, '--build', dbPath, String(rows)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`building ${dbPath} failed (${signal ?? code})`))));
  });
}

/** The child's side: build, then record what was built next to it. */
async function buildAndRecord(dbPath: string, rows: number): Promise<void> {
  const buildMs = await build(dbPath, rows);
  const meta: CacheMeta = { key: cacheKey(rows), rows, sizeBytes: fs.statSync(dbPath).size, buildMs, builtAt: new Date().toISOString() };
  fs.writeFileSync(`${dbPath}.json`, JSON.stringify(meta, null, 2) + '\n');
}

function readMeta(metaPath: string): CacheMeta | undefined {
  try {
    return JSON.parse(fs.readFileSync(metaPath, 'utf8')) as CacheMeta;
  } catch {
    return undefined;
  }
}

/** Builds into `<name>.building` and renames at the end: an interrupted build is never taken for a complete one. */
async function build(finalPath: string, rows: number): Promise<number> {
  const started = performance.now();
  const tmp = `${finalPath}.building`;
  removeDb(tmp);
  const db = await fixture.open(tmp);
  try {
    await db.exec(
      'PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; PRAGMA temp_store=MEMORY; PRAGMA locking_mode=EXCLUSIVE;',
    );
    await db.exec(fixture.SCHEMA);
    const stmt = db.db.prepare(fixture.INSERT_SQL);
    const now = Date.now();
    let lastReport = 0;
    for (let start = 0; start < rows; start += ROWS_PER_TRANSACTION) {
      const end = Math.min(rows, start + ROWS_PER_TRANSACTION);
      await db.exec('BEGIN');
      let pending: Promise<void>[] = [];
      for (let i = start; i < end; i++) {
        const trace = fixture.makeTrace(i, { now, total: rows, spacingMs: SPACING_MS });
        pending.push(new Promise((res, rej) => stmt.run(fixture.bind(trace), (e) => (e ? rej(e) : res()))));
        if (pending.length >= QUEUE_DEPTH) {
          await Promise.all(pending);
          pending = [];
        }
      }
      await Promise.all(pending);
      await db.exec('COMMIT');
      const elapsed = performance.now() - started;
      if (elapsed - lastReport > 5000 || end === rows) {
        lastReport = elapsed;
        const rate = end / (elapsed / 1000);
        const eta = (rows - end) / rate;
        log(
          `  ${end.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} traces` +
            ` (${Math.round((100 * end) / rows)}%, ${Math.round(rate).toLocaleString('en-US')}/s, ${bytes(fs.statSync(tmp).size)}` +
            `${end < rows ? `, about ${seconds(eta * 1000)} left` : ''})`,
        );
      }
    }
    await new Promise<void>((res) => stmt.finalize(res));
    // Back to what an older proxy left: rollback journal. locking_mode=NORMAL takes
    // effect at the next lock release; closing releases everything anyway.
    await db.exec('PRAGMA locking_mode=NORMAL; PRAGMA journal_mode=DELETE;');
    const mode = (await db.get('PRAGMA journal_mode'))?.journal_mode;
    if (mode !== 'delete') throw new Error(`built DB is in journal mode ${String(mode)}, expected delete`);
    const n = Number((await db.get('SELECT max(rowid) AS n FROM traces'))?.n);
    if (n !== rows) throw new Error(`built DB has max(rowid) ${n}, expected ${rows}`);
  } finally {
    await db.close();
  }
  const header = Buffer.alloc(20);
  const fd = fs.openSync(tmp, 'r');
  fs.readSync(fd, header, 0, 20, 0);
  fs.closeSync(fd);
  if (header[18] !== 1 || header[19] !== 1) throw new Error(`built DB header says write/read version ${header[18]}/${header[19]}, expected 1/1 (rollback journal)`);
  fs.renameSync(tmp, finalPath);
  return performance.now() - started;
}

if (require.main === module && process.argv[2] === '--build') {
  buildAndRecord(path.resolve(process.argv[3]), Number(process.argv[4])).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`build failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
