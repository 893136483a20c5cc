// `tracedb-doctor monitor` as a user runs it (dist/cli.js in a child process): a real
// child holds RESERVED for 3 s, and the Prometheus endpoint and the --record file then
// show that one hold, its holder and its length; Ctrl-C ends it cleanly; a port in use
// or a missing database gets a clear message.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from '../../../src/bin/cli';
import { parseListen } from '../../../src/bin/monitorCommand';
import { REPO, sleep, startActor, tempDir, traceWorkspace, waitFor } from '../../support/helpers';

const CLI = path.join(REPO, 'dist', 'cli.js');

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, 'monitor', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

const running: Running[] = [];
afterEach(() => {
  for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

/** The value of the sample line whose name and labels match, e.g. `tracedb_lock_held_seconds_count` with lock="RESERVED". */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('CLI tracedb-doctor monitor', function () {
  this.timeout(90_000);

  it('serves the hold of a child that held RESERVED for 3 s, records it, and stops on SIGINT', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const record = path.join(tempDir(), 'holds.jsonl');
    const mon = start([db, '--listen', '127.0.0.1:0', '--record', record]);
    running.push(mon);
    const url = await waitFor('the metrics URL on stderr', () => /Prometheus metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(mon.stderr())?.[1], 20_000);
    const metrics = async () => {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      return res.text();
    };
    const first = await metrics();
    assert.equal(sample(first, 'tracedb_journal_mode_wal'), 0);
    assert.equal(sample(first, 'tracedb_monitor_sample_rate_hz'), 10);

    const actor = await startActor('hold-write', db);
    await sleep(3000);
    await actor.stop();
    const labels = { lock: 'RESERVED', holder: 'node actor.cjs' };
    const text = await waitFor('the hold in /metrics', async () => {
      const t = await metrics();
      return sample(t, 'tracedb_lock_held_seconds_count', labels) === 1 ? t : undefined;
    });
    const sum = sample(text, 'tracedb_lock_held_seconds_sum', labels)!;
    assert.ok(Math.abs(sum - 3) <= 0.3, `sum ${sum} s`);
    assert.equal(sample(text, 'tracedb_lock_held_seconds_bucket', { ...labels, le: '2.5' }), 0);
    assert.equal(sample(text, 'tracedb_lock_held_seconds_bucket', { ...labels, le: '5' }), 1);
    assert.equal(sample(text, 'tracedb_journal_mode_wal'), 0);
    assert.ok(sample(text, 'tracedb_proxy_blocked_seconds_total')! >= 2.7);
    for (const name of ['tracedb_lock_errors_total', 'tracedb_commits_total', 'tracedb_wal_bytes', 'tracedb_healthy']) {
      assert.notEqual(sample(text, name), undefined, `${name} missing:\n${text}`);
    }
    // A rollback-journal database is not healthy: the passive check says so (not-wal).
    assert.equal(sample(text, 'tracedb_healthy'), 0);
    // One line for the transaction (RESERVED and SHARED end in the same sample).
    assert.match(
      mon.stderr(),
      new RegExp(`PID ${actor.pid} \\(node actor\\.cjs\\) held [^\\n]*RESERVED[^\\n]* for \\d+\\.\\d s, blocking the proxy's commits`),
    );

    const lines = fs
      .readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; pid: number; lock: string; start: number; end: number; holder: string; heldMs: number });
    const held = lines.filter((l) => l.type === 'hold' && l.pid === actor.pid && l.lock === 'RESERVED');
    assert.equal(held.length, 1, JSON.stringify(lines));
    assert.equal(held[0].holder, 'node actor.cjs');
    assert.ok(Math.abs(held[0].end - held[0].start - 3000) <= 300, `held ${held[0].end - held[0].start} ms`);
    assert.equal(held[0].heldMs, held[0].end - held[0].start);

    mon.child.kill('SIGINT');
    assert.equal(await mon.exited, 0, mon.stderr());
    assert.match(mon.stderr(), /SIGINT: stopped monitoring/);
  });

  it('parses its options: --listen forms, value flags, unknown flags refused', () => {
    const a = parseArgs(['monitor', 'x.db', '--listen', '127.0.0.1:0', '--interval=50', '--record', 'holds.jsonl', '--log', 'proxy.log']);
    assert.deepEqual(a.positional, ['x.db']);
    assert.deepEqual(Object.fromEntries(a.flags), { '--listen': '127.0.0.1:0', '--interval': '50', '--record': 'holds.jsonl', '--log': 'proxy.log' });
    assert.throws(() => parseArgs(['monitor', '--json']), /unknown option --json for monitor/);
    assert.deepEqual(parseListen('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen('9478'), { host: '127.0.0.1', port: 9478 });
    assert.deepEqual(parseListen(':9478'), { host: '127.0.0.1', port: 9478 });
    assert.throws(() => parseListen('localhost:99999'), /--listen takes HOST:PORT/);
    assert.throws(() => parseListen('localhost'), /--listen takes HOST:PORT/);
  });

  it('a port in use and a missing database get a clear message and exit 2', async () => {
    const { db } = await traceWorkspace({ rows: 10 });
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const busy = start([db, '--listen', `127.0.0.1:${port}`]);
      running.push(busy);
      assert.equal(await busy.exited, 2);
      assert.match(busy.stderr(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use: pass --listen 127\\.0\\.0\\.1:PORT`));
    } finally {
      blocker.close();
    }
    const missing = start([path.join(tempDir(), 'nothing.db'), '--listen', '127.0.0.1:0']);
    running.push(missing);
    assert.equal(await missing.exited, 2);
    assert.match(missing.stderr(), /no database at .*nothing\.db/);
  });
});
