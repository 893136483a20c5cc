// tracedb-doctor as a user runs it: dist/cli.js in a child process.
import * as assert from 'node:assert/strict';
import { spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from '../../../src/bin/cli';
import { isRoot, REPO, snapshotDir, startActor, tempDir, traceWorkspace } from '../../support/helpers';

const CLI = path.join(REPO, 'dist', 'cli.js');

function cli(args: string[], opts: SpawnOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('CLI tracedb-doctor', () => {
  it('check: exit 1 and the runbook sections for a non-WAL DB; defaults to .ai-tests/traces.db', async () => {
    const { root } = await traceWorkspace({ rows: 10 });
    const r = await cli(['check'], { cwd: root });
    assert.equal(r.code, 1, r.stderr);
    for (const section of ['Database', 'Files', 'Locks and processes', 'Findings']) assert.match(r.stdout, new RegExp(`^${section}$`, 'm'));
    assert.match(r.stdout, /Journal mode: delete/);
    assert.match(r.stdout, /not-wal/);
    assert.match(r.stdout, /Enable WAL/);
  });

  it('check --json: the documented fields', async () => {
    const { root, db } = await traceWorkspace({ rows: 10 });
    const logDir = path.join(root, 'packages', 'proxy', 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    const t = Date.parse('2026-11-26T10:15:00Z');
    fs.writeFileSync(
      path.join(logDir, 'error.log'),
      [
        JSON.stringify({ level: 50, time: t, msg: 'failed to store trace', err: { message: 'SQLITE_BUSY: database is locked' } }),
        JSON.stringify({ level: 30, time: t + 1000, msg: 'stored trace' }),
        JSON.stringify({ level: 50, time: t + 60000, msg: 'failed', err: { message: 'database is locked' } }),
      ].join('\n') + '\n',
    );
    const holder = await startActor('open', db);
    const r = await cli(['check', db, '--json']);
    await holder.stop();
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.path, db);
    assert.equal(j.reachable, true);
    assert.equal(j.journalMode, 'delete');
    assert.equal(j.healthy, false);
    assert.ok(j.findings.every((f: { code: string; severity: string; message: string }) => f.code && f.severity && f.message));
    assert.ok(j.holders.some((h: { pid: number; command: string }) => h.pid === holder.pid && /actor\.cjs/.test(h.command)));
    assert.ok(Array.isArray(j.locks));
    assert.deepEqual(j.traceCount, { value: 10, estimate: true, source: 'max-rowid' });
    assert.equal(j.log.lockErrors, 2);
    assert.equal(j.log.first, '2026-11-26T10:15:00.000Z');
    assert.equal(j.log.last, '2026-11-26T10:16:00.000Z');
  });

  it('check --passive --count: passive never counts (no SQL on a rollback DB)', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const r = await cli(['check', db, '--json', '--passive']);
    const j = JSON.parse(r.stdout);
    assert.equal(j.mode, 'passive');
    assert.equal(j.traceCount, undefined);
    const exact = JSON.parse((await cli(['check', db, '--json', '--count'])).stdout);
    assert.deepEqual(exact.traceCount, { value: 10, estimate: false, source: 'count' });
  });

  it('check: exit 0 on a healthy WAL DB', async () => {
    const { db } = await traceWorkspace({ rows: 3, journalMode: 'wal' });
    const r = await cli(['check', db]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /HEALTHY/);
  });

  it('check: exit 2 with the reason on stderr when it cannot inspect, file untouched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'traces.db');
    fs.writeFileSync(file, 'not sqlite at all');
    const before = snapshotDir(dir);
    const r = await cli(['check', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a SQLite database/);
    assert.deepEqual(snapshotDir(dir), before);
    const missing = await cli(['check', path.join(dir, 'nope.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no database at/);
  });

  it('check: permission denied is named (run as an unprivileged user when root)', async () => {
    const { db } = await traceWorkspace({ rows: 3 });
    fs.chmodSync(db, 0o600);
    const opts: SpawnOptions = isRoot ? { uid: 65534, gid: 65534 } : {};
    if (!isRoot) fs.chmodSync(db, 0);
    // The folders must be traversable by that user; the file itself is not readable.
    for (let d = path.dirname(db); d !== path.dirname(d) && d.startsWith(path.dirname(path.dirname(db))); d = path.dirname(d)) fs.chmodSync(d, 0o755);
    const before = snapshotDir(path.dirname(db));
    const r = await cli(['check', db], opts);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /permission denied/);
    assert.deepEqual(snapshotDir(path.dirname(db)), before);
  });

  it('enable-wal: exit 0 once a fresh connection reads wal; --backup keeps a copy', async () => {
    const { db } = await traceWorkspace({ rows: 8 });
    const r = await cli(['enable-wal', db, '--backup']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /now in WAL mode/);
    assert.match(r.stdout, /Backup: .*backups/);
    const check = JSON.parse((await cli(['check', db, '--json'])).stdout);
    assert.equal(check.journalMode, 'wal');
  });

  it('enable-wal: exit 1 naming the blocker when a reader holds the lock', async () => {
    const { db } = await traceWorkspace({ rows: 8 });
    const reader = await startActor('hold-read', db);
    const r = await cli(['enable-wal', db, '--timeout', '500']);
    await reader.stop();
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`blocker: PID ${reader.pid}`));
  });

  it('holders --json, checkpoint --truncate, backup --out', async () => {
    const { db } = await traceWorkspace({ rows: 8, journalMode: 'wal' });
    const holder = await startActor('hold-read', db);
    const h = JSON.parse((await cli(['holders', db, '--json'])).stdout);
    assert.ok(h.holders.some((x: { pid: number; locks: string[] }) => x.pid === holder.pid && x.locks.includes('WAL_READ')));
    await holder.stop();
    const c = await cli(['checkpoint', db, '--truncate']);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    const out = path.join(tempDir(), 'copy.db');
    const b = await cli(['backup', db, '--out', out]);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(fs.statSync(out).size > 0);
  });

  it('traces --json: rows, hasMore, cursor, notice; filters and sorts; the DB found from the folder', async () => {
    const { root, db } = await traceWorkspace({ rows: 30 });
    const r = await cli(['traces', '--limit', '5', '--json'], { cwd: root });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j).sort(), ['cursor', 'hasMore', 'notice', 'rows']);
    assert.equal(j.rows.length, 5);
    assert.equal(j.hasMore, true);
    assert.equal(j.cursor.rowid, j.rows[4].rowid);
    assert.ok(
      j.rows.every((x: { timestamp: string }, i: number) => i === 0 || x.timestamp <= j.rows[i - 1].timestamp),
      'newest first',
    );
    const errors = JSON.parse((await cli(['traces', db, '--status', 'error', '--model', 'gpt-4o', '--limit', '200', '--json'])).stdout);
    assert.ok(errors.rows.length > 0 && errors.rows.every((x: { status: string; model: string }) => x.status === 'error' && x.model === 'gpt-4o'));
    // Not in WAL mode a latency sort is bounded, and says so.
    const slow = JSON.parse((await cli(['traces', db, '--sort', 'latency', '--dir', 'desc', '--json'])).stdout);
    assert.ok(slow.rows.every((x: { latencyMs: number }, i: number) => i === 0 || x.latencyMs <= slow.rows[i - 1].latencyMs));
    assert.match(slow.notice, /not in WAL mode/);
    const text = await cli(['traces', db, '--search', 'Answer', '--session', 'sess-1', '--endpoint', '/v1/chat/completions', '--limit', '3']);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(
      text.stdout
        .trim()
        .split('\n')
        .every((l) => /^\d{4}-\d\d-\d\dT.*sess|^No traces match\.$/.test(l) || !/sess/.test(l)),
      text.stdout,
    );
    const bad = await cli(['traces', db, '--sort', 'speed']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--sort takes time or latency or tokens/);
    assert.equal((await cli(['traces', db, '--limit', '0'])).code, 2);
  });

  it('show ID [DB]: the conversation as text, the detail as JSON; unknown id exit 1, no id exit 2', async () => {
    const { root, db } = await traceWorkspace({ rows: 5 });
    const row = JSON.parse((await cli(['traces', db, '--limit', '1', '--json'])).stdout).rows[0];
    const text = await cli(['show', row.id], { cwd: root });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`Trace ${row.id}`));
    assert.match(text.stdout, /Latency: \d+ ms · tokens: \d+/);
    assert.match(text.stdout, /Conversation:\n\[(system|user)\] /);
    const j = JSON.parse((await cli(['show', row.id, db, '--json'])).stdout);
    assert.equal(j.id, row.id);
    assert.equal(JSON.parse(j.request.text).model, row.model);
    const missing = await cli(['show', 'no-such-trace', db]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no trace no-such-trace/);
    const none = await cli(['show']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /show needs the id of a trace/);
    assert.deepEqual(parseArgs(['show', 'abc', 'x.db']).positional, ['abc', 'x.db']);
    assert.throws(() => parseArgs(['show', 'a', 'b', 'c']), /a trace id and one database path/);
  });

  it('rejects unknown commands and options with usage, exit 2', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.match(r.stderr, /Usage: tracedb-doctor/);
    assert.throws(() => parseArgs(['check', '--jsn']), /unknown option --jsn/);
    assert.throws(() => parseArgs(['enable-wal', '--timeout']), /needs a value/);
  });

  it('--version and -v print the package version, exit 0; help names them', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await cli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
    assert.match((await cli(['help'])).stdout, /tracedb-doctor --version \| -v/);
  });
});
