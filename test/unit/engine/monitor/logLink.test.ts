// The log side of the link: LogTail's listener reports each lock-error event the proxy
// appends once, as soon as a line of it says so, with its time and first line, whatever
// way the bytes arrive; the summary it returns stays what it was without a listener.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogLockEvent } from '../../../../src/engine/log/logEvents';
import { LogTail } from '../../../../src/engine/log/logTail';
import { tempDir } from '../../../support/helpers';

const T = Date.parse('2026-11-26T04:35:58.250Z');

function jsonLine(time: number, msg: string, err?: string): string {
  return JSON.stringify({ level: err ? 50 : 30, time, msg, ...(err ? { err: { message: err } } : {}) }) + '\n';
}

async function tail(file: string): Promise<{ t: LogTail; plain: LogTail; found: LogLockEvent[] }> {
  const t = new LogTail(file);
  const found: LogLockEvent[] = [];
  t.onLockEvent = (e) => found.push(e);
  const plain = new LogTail(file);
  await Promise.all([t.update(), plain.update()]);
  return { t, plain, found };
}

describe('monitor: log events (LogTail listener)', () => {
  it('reports appended events only, each once, with time and first line; the summary is unchanged', async () => {
    const file = path.join(tempDir(), 'proxy.log');
    fs.writeFileSync(file, jsonLine(T - 60_000, 'old', 'database is locked'));
    const { t, plain, found } = await tail(file);
    assert.equal(found.length, 0, 'what was there before is history, not news');

    fs.appendFileSync(file, jsonLine(T, 'stored trace') + jsonLine(T + 1000, 'failed to store trace', 'SQLITE_BUSY: database is locked'));
    const [a, b] = await Promise.all([t.update(), plain.update()]);
    assert.deepEqual(a, b);
    assert.equal(found.length, 1);
    assert.equal(found[0].time, T + 1000);
    assert.match(found[0].text, /^\{"level":50,.*"msg":"failed to store trace"/);

    // A pino-pretty event arriving in two writes: the header first, its err block later.
    fs.appendFileSync(file, '[04:36:10 UTC] ERROR: request failed\n');
    await t.update();
    assert.equal(found.length, 1, 'not a lock error yet');
    fs.appendFileSync(file, '    err: {\n      "message": "database is locked",\n      "code": "SQLITE_BUSY"\n    }\n');
    await t.update();
    fs.appendFileSync(file, '    reqId: "req-2"\n[04:36:11 UTC] INFO: ok\n');
    const [c, d] = await Promise.all([t.update(), plain.update()]);
    assert.deepEqual(c, d);
    assert.equal(found.length, 2, JSON.stringify(found));
    assert.equal(found[1].text, '[04:36:10 UTC] ERROR: request failed');
    assert.equal(new Date(found[1].time!).toISOString().slice(11, 19), '04:36:10');
    assert.equal(c.lockErrors, 3);
  });

  it('a log created or replaced after the first update is read from its start', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'proxy.log');
    const { t, found } = await tail(file);
    fs.writeFileSync(file, jsonLine(T, 'failed', 'database is locked'));
    assert.equal((await t.update()).lockErrors, 1);
    assert.deepEqual(
      found.map((e) => e.time),
      [T],
    );
    // Rotation: the old file moved away, a new one in its place.
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, jsonLine(T + 5000, 'failed again', 'database is locked') + jsonLine(T + 6000, 'and again', 'database is locked'));
    const s = await t.update();
    assert.equal(s.lockErrors, 2);
    assert.deepEqual(
      found.map((e) => e.time),
      [T, T + 5000, T + 6000],
    );
  });
});
