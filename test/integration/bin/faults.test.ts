// Fault injection (issue 11): the doctor killed at random moments while the proxy
// writes, a disk too full for a copy, and files that are not databases. Whatever
// happens, no committed row is lost, the database stays sound, nothing half-written
// looks like a backup, and every command answers promptly with a clear message.
//
// Runs the real CLI (dist/cli.js, built by `npm test` before the unit tests) as a child
// process, so a SIGKILL lands in the middle of real work and a hang fails a test
// (by its timeout) instead of the run.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HealthReport } from '../../../src/shared/model';
import { createTraceDb, isRoot, openFixtureDb, REPO, sleep, startActor, tempDir } from '../../support/helpers';

const CLI = path.join(REPO, 'dist', 'cli.js');
const ROWS = 3000;

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

interface CliOptions {
  timeoutMs?: number;
  /** Called once the child runs; resolve it to SIGKILL the child at that moment. */
  killWhen?: (pid: number) => Promise<unknown>;
}

function cli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 20000);
  let exited = false;
  const done = new Promise<CliRun>((res) =>
    child.on('exit', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      res({ code, signal, stdout, stderr, ms: performance.now() - t0, timedOut });
    }),
  );
  if (opts.killWhen) void opts.killWhen(child.pid!).then(() => !exited && child.kill('SIGKILL'));
  return done;
}

/** The files in `dir` and in its backups/ folder, as names relative to `dir`. */
function listing(dir: string): string[] {
  const b = path.join(dir, 'backups');
  return [...fs.readdirSync(dir), ...(fs.existsSync(b) ? fs.readdirSync(b).map((n) => `backups/${n}`) : [])].sort();
}

/** Nothing half-written anywhere, and every file that looks like a backup is a sound database. */
async function assertNoDebris(dbDir: string): Promise<void> {
  const names = listing(dbDir);
  assert.deepEqual(
    names.filter((n) => /\.partial|\.tracedb-check-/.test(n)),
    [],
    names.join(', '),
  );
  for (const n of names.filter((x) => /^backups\/.*\.db$/.test(x))) {
    const p = path.join(dbDir, n);
    const head = Buffer.alloc(16);
    const fd = fs.openSync(p, 'r');
    fs.readSync(fd, head, 0, 16, 0);
    fs.closeSync(fd);
    assert.equal(head.toString('latin1'), 'SQLite format 3\0', `${n} does not start like a database`);
    const c = await openFixtureDb(p);
    const qc = await c.get('PRAGMA quick_check');
    await c.close();
    assert.equal(qc.quick_check, 'ok', `${n} fails quick_check`);
  }
}

async function idsOf(db: string): Promise<Set<string>> {
  const c = await openFixtureDb(db);
  const qc = await c.get('PRAGMA quick_check');
  assert.equal(qc.quick_check, 'ok', 'the database is sound');
  const rows = await c.all('SELECT id FROM traces');
  await c.close();
  return new Set(rows.map((r) => String(r.id)));
}

/** Resolves when a temporary copy appears in `dir` (backups/), then a random 0–30 ms later. */
async function whenTemporaryAppears(dir: string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(dir) && fs.readdirSync(dir).some((n) => n.includes('.partial'))) break;
    await sleep(2);
  }
  await sleep(Math.random() * 30);
}

describe('fault injection: the doctor killed at random moments while the proxy writes', function () {
  this.timeout(120000);
  const templates: Record<'delete' | 'wal', string> = { delete: '', wal: '' };
  let trials = 0;
  /** Trials whose kill left a temporary behind for the next check to clear: proof the kills land mid-copy. */
  let leftTemporaries = 0;

  before(async function () {
    this.timeout(120000);
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build first`);
    const dir = tempDir();
    for (const mode of ['delete', 'wal'] as const) {
      templates[mode] = path.join(dir, `${mode}.db`);
      await createTraceDb(templates[mode], { rows: ROWS, journalMode: mode });
    }
  });

  after(() => {
    if (trials) console.log(`      ${trials} kill trials; ${leftTemporaries} left a temporary copy that the next check removed`);
  });

  /**
   * One trial: a fresh DB, a writer committing, the CLI killed after `killAfter`; then
   * every committed row is there, the DB passes quick_check, and after the next `check`
   * nothing half-written is left.
   */
  async function trial(mode: 'delete' | 'wal', args: string[], killWhen: (dbDir: string) => Promise<unknown>): Promise<CliRun> {
    trials++;
    const root = tempDir('tracedb-fault-');
    const dbDir = path.join(root, '.ai-tests');
    fs.mkdirSync(dbDir);
    const db = path.join(dbDir, 'traces.db');
    fs.copyFileSync(templates[mode], db);
    const before = await idsOf(db);
    const writer = await startActor('writer', db, ['--rate', '100', '--busy-timeout', '5000']);
    const run = await cli([args[0], db, ...args.slice(1)], { killWhen: () => killWhen(dbDir) });
    await sleep(150);
    const summary = (await writer.stop())!;
    assert.equal(run.timedOut, false, `${args.join(' ')} hung`);
    assert.deepEqual(summary.otherErrors, []);

    const after = await idsOf(db);
    for (const id of before) assert.ok(after.has(id), `pre-existing row ${id} lost (${args.join(' ')}, ${run.signal ?? run.code})`);
    for (const id of summary.committed) assert.ok(after.has(id), `committed row ${id} lost (${args.join(' ')}, ${run.signal ?? run.code})`);

    if (listing(dbDir).some((n) => n.includes('.partial'))) leftTemporaries++;
    const next = await cli(['check', db, '--json']);
    assert.equal(next.timedOut, false);
    const report = JSON.parse(next.stdout) as HealthReport;
    assert.ok(report.reachable, next.stdout.slice(0, 400));
    await assertNoDebris(dbDir);
    return run;
  }

  const random = (lo: number, hi: number) => () => sleep(lo + Math.random() * (hi - lo));
  const atCopy = (dbDir: string) => whenTemporaryAppears(path.join(dbDir, 'backups'), 8000);

  /** How long the command takes when left alone here and now, so random kills land inside it. */
  async function calibrate(mode: 'delete' | 'wal', args: string[]): Promise<number> {
    const dir = tempDir('tracedb-cal-');
    const db = path.join(dir, 'traces.db');
    fs.copyFileSync(templates[mode], db);
    const r = await cli([args[0], db, ...args.slice(1)]);
    return r.ms;
  }

  for (const [title, mode, args, midCopy] of [
    ['backup (rollback mode)', 'delete', ['backup'], true],
    ['enable-wal --backup (the switch, then a backup)', 'delete', ['enable-wal', '--backup'], true],
    ['checkpoint --truncate (WAL mode)', 'wal', ['checkpoint', '--truncate'], false],
    ['check --integrity (its copy of a rollback DB)', 'delete', ['check', '--integrity'], true],
  ] as const) {
    it(`${title}: 6 kills, at random${midCopy ? ' and mid-copy' : ''}`, async () => {
      const ms = await calibrate(mode, [...args]);
      const kills = [];
      for (let i = 0; i < 6; i++) {
        const when = midCopy && i % 2 ? atCopy : random(0.2 * ms, 0.95 * ms);
        kills.push((await trial(mode, [...args], when)).signal);
      }
      assert.ok(kills.filter((s) => s === 'SIGKILL').length >= 3, `killed: ${kills.join()} (alone it takes ${ms.toFixed(0)} ms)`);
    });
  }
});

describe('fault injection: a disk too full for the copy', function () {
  this.timeout(120000);
  let mnt: string | undefined;

  before(function () {
    const dir = tempDir('tracedb-tmpfs-');
    const r = isRoot ? spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]) : undefined;
    if (!r || r.status !== 0) {
      // The one allowed skip: a small filesystem needs mount, which only root (or a privileged container) may do.
      console.log(
        `      skipped: cannot mount a tmpfs here (${isRoot ? String(r?.stderr).trim() : 'not root'}); the full-disk behaviour is untested on this machine`,
      );
      this.skip();
    }
    mnt = dir;
  });

  after(() => {
    if (mnt) spawnSync('umount', [mnt]);
  });

  /** A 5 MiB rollback DB on the 8 MiB disk: no copy of it fits. */
  async function fullDiskDb(name: string): Promise<{ dir: string; db: string }> {
    for (const n of fs.readdirSync(mnt!)) fs.rmSync(path.join(mnt!, n), { recursive: true, force: true });
    const dir = path.join(mnt!, name, '.ai-tests');
    fs.mkdirSync(dir, { recursive: true });
    const db = path.join(dir, 'traces.db');
    await createTraceDb(db, { rows: ROWS, journalMode: 'delete' });
    return { dir, db };
  }

  const NOT_ENOUGH = /not enough space: need \d+ MiB, [\d.]+ MiB free on \/\S+/;

  it('backup: says "not enough space" before starting, writes nothing', async () => {
    const { dir, db } = await fullDiskDb('backup');
    const before = listing(dir);
    const r = await cli(['backup', db]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, NOT_ENOUGH);
    assert.match(r.stderr, new RegExp(`free on ${mnt}`));
    assert.deepEqual(listing(dir), before);
  });

  it('check --integrity: integrity-not-run with the reason, never integrity-failed, no debris', async () => {
    const { dir, db } = await fullDiskDb('integrity');
    const r = await cli(['check', db, '--integrity', '--json']);
    const report = JSON.parse(r.stdout) as HealthReport;
    assert.equal(report.integrity?.ran, false);
    assert.match(report.integrity?.notRunReason ?? '', NOT_ENOUGH);
    const codes = report.findings.map((f) => f.code);
    assert.ok(codes.includes('integrity-not-run'), codes.join());
    assert.ok(!codes.includes('integrity-failed'), codes.join());
    await assertNoDebris(dir);
    assert.deepEqual(listing(dir), ['traces.db']);
  });

  it('enable-wal --backup: switches (that needs no room), the backup says "not enough space", no debris', async () => {
    const { dir, db } = await fullDiskDb('wal');
    const ids = await idsOf(db);
    const r = await cli(['enable-wal', db, '--backup']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /now in WAL mode/);
    assert.match(r.stderr, NOT_ENOUGH);
    await assertNoDebris(dir);
    assert.equal((await idsOf(db)).size, ids.size);
  });
});

describe('special files: every command answers promptly with a clear message', function () {
  this.timeout(180000);
  const COMMANDS = [
    ['check'],
    ['check', '--passive'],
    ['check', '--integrity'],
    ['enable-wal'],
    ['enable-wal', '--backup'],
    ['holders'],
    ['checkpoint'],
    ['checkpoint', '--truncate'],
    ['backup'],
  ];
  const targets: Record<string, { path: string; message: RegExp }> = {};

  before(function () {
    const dir = tempDir();
    const fifo = path.join(dir, 'fifo.db');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, String(made.stderr));
    const loop = path.join(dir, 'loop.db');
    fs.symlinkSync(path.join(dir, 'loop2.db'), loop);
    fs.symlinkSync(loop, path.join(dir, 'loop2.db'));
    const folder = path.join(dir, 'folder.db');
    fs.mkdirSync(folder);
    targets.fifo = { path: fifo, message: /named pipe|not a regular file/i };
    targets['/dev/zero'] = { path: '/dev/zero', message: /character device|not a regular file/i };
    targets['symlink loop'] = { path: loop, message: /loop of symbolic links|symbolic links/i };
    targets.directory = { path: folder, message: /directory|folder/i };
    targets.missing = { path: path.join(dir, 'missing.db'), message: /not found|no such file|no database/i };
  });

  for (const kind of ['fifo', '/dev/zero', 'symlink loop', 'directory', 'missing']) {
    it(`${kind}: every CLI command`, async () => {
      const t = targets[kind];
      const runs = await Promise.all(COMMANDS.map(async (c) => ({ c, r: await cli([c[0], t.path, ...c.slice(1)], { timeoutMs: 15000 }) })));
      for (const { c, r } of runs) {
        const what = `${c.join(' ')} on ${kind}`;
        assert.equal(r.timedOut, false, `${what} hung`);
        assert.doesNotMatch(r.stderr, /unexpected error/, `${what}: ${r.stderr}`);
        // holders only lists processes: nobody has a non-database open as one.
        if (c[0] === 'holders') continue;
        assert.notEqual(r.code, 0, `${what} exited 0: ${r.stdout}`);
        assert.match(r.stdout + r.stderr, t.message, `${what}: ${r.stdout}${r.stderr}`);
      }
      assert.equal(fs.existsSync('/dev/backups'), false, 'nothing was created beside /dev/zero');
    });
  }

  it('trace queries refuse a FIFO, /dev/zero and a directory at once', async () => {
    // In a child process: a query stuck on a FIFO pins a libuv thread, which would keep
    // this test process from ever exiting instead of failing one test.
    const script = `require(${JSON.stringify(path.join(REPO, 'src/engine/traces/readTraces.ts'))}).readTraces(process.argv[1], async () => 'read').then((v) => console.log('resolved ' + v), (e) => console.log(e.message))`;
    for (const kind of ['fifo', '/dev/zero', 'directory', 'symlink loop']) {
      const t0 = Date.now();
      const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script, targets[kind].path], { cwd: REPO, timeout: 15000, encoding: 'utf8' });
      assert.equal(r.signal, null, `${kind}: the trace query hung (${Date.now() - t0} ms)`);
      assert.doesNotMatch(r.stdout, /^resolved/, kind);
      if (kind !== 'symlink loop') assert.match(r.stdout, targets[kind].message, kind);
    }
  });
});
