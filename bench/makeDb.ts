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
// `padBytes` makes rows as big as a real proxy's (the 770 MB / 200,000-trace DB of
// issue 9 averages 3.9 KB a trace): the prompt gets that much more text. It goes
// through `makeTrace`'s `extra`, i.e. into the FTS-indexed prompt, so it is made of
// varied words; one repeated character would give FTS a single token and a DB with
// neither the size nor the index shape of a real one.
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

export interface TraceDbOptions {
  /** About this many bytes of varied words appended to every prompt (0: the bench's plain rows). */
  padBytes?: number;
}

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

/**
 * Identifies the content: a schema or row-shape change in the fixture invalidates the cache.
 * Unpadded builds hash exactly what they always did, so the bench's cached 1M DB stays valid.
 */
function cacheKey(rows: number, padBytes: number): string {
  const fixtureSource = fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'traceforge.cjs'));
  const h = createHash('sha256').update(`${BUILD_VERSION}\n${rows}\n`).update(fixtureSource);
  if (padBytes > 0) h.update(`\npad ${padBytes}\n${PAD_WORDS.join(' ')}\n${paddingFor.toString()}`);
  return h.digest('hex').slice(0, 16);
}

/** Returns the cached DB with `rows` traces, building it first when missing or stale. */
export async function ensureTraceDb(rows: number, opts: TraceDbOptions = {}): Promise<TraceDb> {
  const padBytes = Math.max(0, Math.round(opts.padBytes ?? 0));
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const count = rows % 1_000_000 === 0 ? `${rows / 1_000_000}m` : rows % 1000 === 0 ? `${rows / 1000}k` : `${rows}`;
  const name = `traces-${count}${padBytes ? `-pad${padBytes}` : ''}.db`;
  const dbPath = path.join(CACHE_DIR, name);
  const metaPath = `${dbPath}.json`;
  const key = cacheKey(rows, padBytes);

  const meta = readMeta(metaPath);
  if (meta && meta.key === key && meta.rows === rows && fs.existsSync(dbPath) && fs.statSync(dbPath).size === meta.sizeBytes) {
    log(`using cached ${name} (${bytes(meta.sizeBytes)}, built ${meta.builtAt} in ${seconds(meta.buildMs)})`);
    return { path: dbPath, rows, sizeBytes: meta.sizeBytes, buildMs: meta.buildMs, builtAt: meta.builtAt, cached: true };
  }

  removeDb(dbPath);
  fs.rmSync(metaPath, { force: true });
  log(`building ${name}: ${rows.toLocaleString('en-US')} traces (cached afterwards in ${path.relative(process.cwd(), CACHE_DIR)}/)`);
  await buildInChild(dbPath, rows, padBytes);
  const built = readMeta(metaPath);
  if (!built || built.key !== key) throw new Error(`the build of ${name} left no valid ${path.basename(metaPath)}`);
  log(`built ${name}: ${bytes(built.sizeBytes)} in ${seconds(built.buildMs)}`);
  return { path: dbPath, rows, sizeBytes: built.sizeBytes, buildMs: built.buildMs, builtAt: built.builtAt, cached: false };
}

/** Runs this file as `--build DB ROWS PAD` in a fresh Node (same TypeScript loader); progress shows on our stderr. */
function buildInChild(dbPath: string, rows: number, padBytes: number): Promise<void> {
  // Keep the parent's loader flags but not an `-e CODE` / `-p CODE`: the child would run
  // that code again instead of this file, and start a build of its own, and so on.
  const execArgv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const a = process.execArgv[i];
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++;
    else if (!/^--(eval|print)=/.test(a)) execArgv.push(a);
  }
  // `tsx bench/run.ts` passes its loader in execArgv; mocha's `-r tsx/cjs` loads it
  // inside the process only, so a child started from a test needs it named.
  if (!execArgv.some((a) => a.includes('tsx'))) execArgv.push('--require', require.resolve('tsx/cjs'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, __filename, '--build', dbPath, String(rows), String(padBytes)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`building ${dbPath} failed (${signal ?? code})`))));
  });
}

/** The child's side: build, then record what was built next to it. */
async function buildAndRecord(dbPath: string, rows: number, padBytes: number): Promise<void> {
  const buildMs = await build(dbPath, rows, padBytes);
  const meta: CacheMeta = { key: cacheKey(rows, padBytes), rows, sizeBytes: fs.statSync(dbPath).size, buildMs, builtAt: new Date().toISOString() };
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
async function build(finalPath: string, rows: number, padBytes: number): Promise<number> {
  const started = performance.now();
  const tmp = `${finalPath}.building`;
  removeDb(tmp);
  const db = await fixture.open(tmp);
  try {
    await db.exec('PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; PRAGMA temp_store=MEMORY; PRAGMA locking_mode=EXCLUSIVE;');
    await db.exec(fixture.SCHEMA);
    const stmt = db.db.prepare(fixture.INSERT_SQL);
    const now = Date.now();
    let lastReport = 0;
    for (let start = 0; start < rows; start += ROWS_PER_TRANSACTION) {
      const end = Math.min(rows, start + ROWS_PER_TRANSACTION);
      await db.exec('BEGIN');
      let pending: Promise<void>[] = [];
      for (let i = start; i < end; i++) {
        const extra = padBytes > 0 ? paddingFor(i, padBytes) : undefined;
        const trace = fixture.makeTrace(i, { now, total: rows, spacingMs: SPACING_MS, extra });
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
  if (header[18] !== 1 || header[19] !== 1)
    throw new Error(`built DB header says write/read version ${header[18]}/${header[19]}, expected 1/1 (rollback journal)`);
  fs.renameSync(tmp, finalPath);
  return performance.now() - started;
}

// ---------------------------------------------------------------- padding

/** Words of the kind people paste into prompts: code, logs, prose. */
const PAD_WORDS = (
  'the a of to and in is that for it with as on this be are from by at or an not have which we can ' +
  'function return const let async await promise error exception stack trace timeout retry request response ' +
  'database table index query select insert update delete where join order limit transaction commit rollback ' +
  'lock busy journal checkpoint page cache memory disk latency throughput writer reader proxy server client ' +
  'model token prompt completion assistant user system message context window temperature stream chunk ' +
  'test failing passing assertion expected actual received undefined null string number boolean object array ' +
  'deploy release build pipeline container cluster node service endpoint route handler middleware config ' +
  'please explain why how when what should could would might also then because however therefore instead ' +
  'customer invoice report summary draft review diff patch branch merge conflict incident outage alert metric ' +
  'python typescript javascript rust golang java kotlin swift sql json yaml markdown html css shell docker ' +
  'quickly carefully slowly again never always usually sometimes often rarely today yesterday tomorrow ' +
  'small large empty full broken fixed stale fresh safe unsafe slow fast old new first last next previous ' +
  'file folder path line column byte kilobyte megabyte gigabyte second millisecond minute hour day week'
).split(' ');

/**
 * Deterministic text of `target` ± 40% bytes for row `i`: a few sentences of words
 * drawn with a small PRNG (mulberry32) seeded by `i`, plus row-specific numbers and
 * identifiers so FTS sees a realistic mix of common and rare tokens.
 */
function paddingFor(i: number, target: number): string {
  let seed = (i + 1) * 0x9e3779b9;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const want = Math.round(target * (0.6 + 0.8 * rand()));
  const parts: string[] = [];
  let len = 0;
  let sentence = 0;
  while (len < want) {
    const r = rand();
    const w = r < 0.04 ? `${Math.floor(rand() * 100000)}` : r < 0.06 ? `id_${i.toString(36)}_${sentence}` : PAD_WORDS[Math.floor(rand() * PAD_WORDS.length)];
    const word = sentence++ % 12 === 0 ? `${sentence === 1 ? ' ' : '. '}${w.charAt(0).toUpperCase()}${w.slice(1)}` : ` ${w}`;
    parts.push(word);
    len += word.length;
  }
  return parts.join('') + '.';
}

if (require.main === module && process.argv[2] === '--build') {
  buildAndRecord(path.resolve(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 0)).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`build failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
