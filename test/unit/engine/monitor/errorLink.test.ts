// The log link on synthetic holds: which holds a lock error is blamed on (those of a
// blocking lock by another process around the moment), how long each had been held, and
// the event's text as the user reads it. Against a real log and a real holder: lockMonitor.test.ts.
import assert from 'node:assert/strict';
import { BLAME_AFTER_MS, BLAME_BEFORE_MS, blame, describeLockError, eventText } from '../../../../src/engine/monitor/errorLink';
import type { LockHold } from '../../../../src/shared/monitorModel';
import type { SqliteLockName } from '../../../../src/shared/model';

function hold(pid: number, lock: SqliteLockName, start: number, end?: number, blocksProxy = true): LockHold {
  const h: LockHold = { pid, holder: `holder ${pid}`, kind: 'script', lock, start, blocksProxy };
  if (end !== undefined) h.end = end;
  return h;
}

const AT = 100_000;

describe('monitor: error link', () => {
  it('blames the blocking holds around the moment, with how long each had been held', () => {
    const holds = [
      hold(1, 'RESERVED', AT - 6200), // still held
      hold(1, 'SHARED', AT - 6200),
      hold(2, 'SHARED', AT - 3000, AT - 400), // let go just before the proxy gave up
      hold(3, 'RESERVED', AT - 9000, AT - BLAME_BEFORE_MS - 1), // long gone
      hold(4, 'PENDING', AT + BLAME_AFTER_MS + 1), // after
      hold(5, 'WAL_READ', AT - 5000, undefined, false), // does not block
    ];
    assert.deepEqual(blame(AT, holds, AT + 500), [
      { pid: 1, holder: 'holder 1', lock: 'RESERVED', heldMs: 6200 },
      { pid: 1, holder: 'holder 1', lock: 'SHARED', heldMs: 6200 },
      { pid: 2, holder: 'holder 2', lock: 'SHARED', heldMs: 2600 },
    ]);
  });

  it('a time cut to whole seconds still finds a hold that began within the second after it', () => {
    assert.deepEqual(blame(AT, [hold(7, 'RESERVED', AT + 600)], AT + 2000), [{ pid: 7, holder: 'holder 7', lock: 'RESERVED', heldMs: 0 }]);
  });

  it('two holds of one lock by one process near the moment: the longer counts', () => {
    const b = blame(AT, [hold(1, 'RESERVED', AT - 5000, AT - 900), hold(1, 'RESERVED', AT - 200)], AT);
    assert.deepEqual(b, [{ pid: 1, holder: 'holder 1', lock: 'RESERVED', heldMs: 4100 }]);
  });

  it('the event text: pino JSON as message and error, pino-pretty without colours, long lines cut', () => {
    assert.equal(
      eventText('{"level":50,"time":1764152158000,"pid":9,"msg":"failed to store trace","err":{"type":"SqliteError","message":"database is locked"}}'),
      'failed to store trace: database is locked',
    );
    assert.equal(eventText('\x1b[90m[04:35:58 UTC]\x1b[39m \x1b[31mERROR\x1b[39m: database is locked\r'), '[04:35:58 UTC] ERROR: database is locked');
    const long = eventText(`Error: database is locked ${'x'.repeat(500)}`);
    assert.equal(long.length, 200);
    assert.ok(long.endsWith('…'));
  });

  it('describes an event as the 3 a.m. line', () => {
    const at = Date.parse('2026-11-26T04:35:58Z');
    assert.equal(
      describeLockError({ at, text: 'database is locked', blamed: [{ pid: 21898, holder: 'python3 notebook.py', lock: 'RESERVED', heldMs: 6200 }] }),
      'at 04:35:58 UTC the proxy failed; PID 21898 (python3 notebook.py) had held RESERVED for 6.2 s',
    );
    assert.match(describeLockError({ at, text: 'database is locked', blamed: [] }), /no other process held a blocking lock then/);
  });
});
