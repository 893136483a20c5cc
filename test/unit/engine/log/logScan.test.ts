// The proxy log scan: what counts as a lock error, exact counts and times on real
// files, and the bounds (bytes, time, memory, one huge line) that keep it cheap to poll.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { classifyLine } from '../../../../src/engine/log/logLine';
import { scanLog } from '../../../../src/engine/log/logScan';
import { LogTail } from '../../../../src/engine/log/logTail';
import type { LogSummary } from '../../../../src/shared/model';

const MiB = 1024 * 1024;
const T0 = Date.UTC(2026, 10, 26, 0, 0, 0); // 2026-11-26T00:00:00Z
const iso = (ms: number) => new Date(ms).toISOString();
const hourOf = (ms: number) => iso(Math.floor(ms / 3_600_000) * 3_600_000);

/** Fields that depend only on the file's content, not on how it was read. */
function counts(s: LogSummary) {
  return { lockErrors: s.lockErrors, first: s.first, last: s.last, perHour: s.perHour, firstLine: s.firstLine, complete: s.complete };
}

/**
 * A log of `n` fixed-width lines, every `every`-th one a lock error at T0 + i minutes
 * (alternating pino JSON and pretty text), so the counts of any tail are computable.
 */
const WIDTH = 128;
function fixedLine(i: number, every: number): string {
  const t = T0 + i * 60_000;
  let s: string;
  if (i % every !== 0) s = `{"level":30,"time":${t},"msg":"stored trace ${i}"}`;
  else if (i % 2 === 0) s = `{"level":50,"time":${t},"msg":"store failed","err":{"message":"SQLITE_BUSY: database is locked"}}`;
  else s = `[${iso(t).replace('T', ' ').replace('Z', '')} +0000] ERROR (7): database is locked`;
  assert.ok(s.length < WIDTH, s);
  return s.padEnd(WIDTH - 1, ' ') + '\n';
}

/** What a scan of lines [from, to) of fixedLine(·, every) must report. */
function expectedTail(from: number, to: number, every: number) {
  let lockErrors = 0;
  let first: number | undefined;
  let last: number | undefined;
  const hours = new Map<string, number>();
  for (let i = from; i < to; i++) {
    if (i % every !== 0) continue;
    const t = T0 + i * 60_000;
    lockErrors++;
    first ??= t;
    last = t;
    hours.set(hourOf(t), (hours.get(hourOf(t)) ?? 0) + 1);
  }
  return {
    lockErrors,
    first: first === undefined ? undefined : iso(first),
    last: last === undefined ? undefined : iso(last),
    perHour: [...hours].map(([hour, count]) => ({ hour, count })),
  };
}

describe('logScan', () => {
  let dir: string;
  let seq = 0;
  const write = (content: string | Buffer, name = `log${seq++}.log`) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };
  /** pino-pretty's times have no date: the file's mtime supplies it. */
  const touch = (p: string, mtime: string | number) => {
    const t = new Date(mtime);
    fs.utimesSync(p, t, t);
    return p;
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-logscan-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('classifyLine', () => {
    it('reads the time of a pino JSON line (epoch ms, ISO string, or seconds)', () => {
      const ms = Date.UTC(2026, 10, 26, 14, 3, 12, 123);
      assert.deepEqual(
        classifyLine(
          `{"level":50,"time":${ms},"pid":1,"msg":"failed to store trace","err":{"message":"SQLITE_BUSY: database is locked","code":"SQLITE_BUSY"}}`,
        ),
        { lockError: true, time: ms },
      );
      assert.deepEqual(classifyLine(`{"level":50,"time":"2026-11-26T14:03:12.123Z","msg":"database is locked"}`), { lockError: true, time: ms });
      assert.deepEqual(classifyLine(`{"level":50,"time":${Math.floor(ms / 1000)},"msg":"database is locked"}`), { lockError: true, time: ms - 123 });
    });

    it('reads the first date-time of a text line, honouring its zone and taking none as UTC', () => {
      const ms = Date.UTC(2026, 10, 26, 14, 3, 12, 123);
      assert.deepEqual(classifyLine('[2026-11-26 14:03:12.123 +0000] ERROR (123): database is locked'), { lockError: true, time: ms });
      assert.deepEqual(classifyLine('[2026-11-26 15:03:12.123 +0100] ERROR (123): database is locked'), { lockError: true, time: ms });
      assert.deepEqual(classifyLine('2026-11-26T09:33:12.123-04:30 error SqliteError: database is locked'), { lockError: true, time: ms });
      assert.deepEqual(classifyLine('2026-11-26T14:03:12Z error SqliteError: database is locked at 2027-01-01T00:00:00Z'), { lockError: true, time: ms - 123 });
      assert.deepEqual(classifyLine('2026-11-26 14:03:12,123 ERROR database is locked'), { lockError: true, time: ms });
    });

    it('counts a line with a time but no date, without a time', () => {
      const c = classifyLine('[14:03:12.123] ERROR: database is locked');
      assert.deepEqual(c, { lockError: true });
      assert.ok(!('time' in c));
      assert.deepEqual(classifyLine('2026-13-45 25:61:00 error: database is locked'), { lockError: true });
    });

    it('knows every spelling of a SQLite lock error, in any case', () => {
      for (const line of [
        'SqliteError: database is locked',
        'Error: SQLITE_BUSY',
        'code=sqlite_busy_timeout',
        'SQLITE_LOCKED: database table is locked',
        'ERROR: Database Is Locked',
        'the database table is locked: traces',
        'SQLITE_LOCKED_SHAREDCACHE',
      ]) {
        assert.equal(classifyLine(line).lockError, true, line);
      }
    });

    it('does not count lines that merely say "locked"', () => {
      for (const line of [
        '2026-11-26T14:03:12Z warn user account locked',
        '{"level":40,"time":1764201600000,"msg":"file is locked by another editor"}',
        'the database was locked earlier',
        'database locked',
        'table is locked',
        'SQLITE_OK',
        '',
      ]) {
        assert.deepEqual(classifyLine(line), { lockError: false }, line);
      }
    });
  });

  describe('scanLog', () => {
    // Line 7 is the earliest time although it comes late: first/last are by time. Line 4
    // has a time without a date: the mtime (15:30 that day) dates it.
    const MIXED_MTIME = '2026-11-26T15:30:00Z';
    const MIXED = [
      `{"level":30,"time":${Date.UTC(2026, 10, 26, 13, 59)},"msg":"proxy started"}`,
      `{"level":50,"time":${Date.UTC(2026, 10, 26, 14, 3, 12)},"pid":1,"msg":"failed to store trace","err":{"message":"SQLITE_BUSY: database is locked","code":"SQLITE_BUSY"}}`,
      '[2026-11-26 14:20:00.000 +0000] ERROR (123): SqliteError: database is locked',
      '[14:25:00.000] ERROR: database is locked',
      '2026-11-26T15:01:00Z warn user account locked',
      '2026-11-26T15:02:00Z error SQLITE_LOCKED: database table is locked',
      '{"level":50,"time":"2026-11-26T13:10:00.000Z","msg":"write failed","err":{"message":"SQLITE_BUSY"}}',
      'info: flushed 10 traces',
    ];
    const MIXED_COUNTS = {
      lockErrors: 5,
      first: '2026-11-26T13:10:00.000Z',
      last: '2026-11-26T15:02:00.000Z',
      perHour: [
        { hour: '2026-11-26T13:00:00.000Z', count: 1 },
        { hour: '2026-11-26T14:00:00.000Z', count: 3 },
        { hour: '2026-11-26T15:00:00.000Z', count: 1 },
      ],
      firstLine: 2,
      complete: true,
    };

    it('counts pino JSON and pretty lines in one file, with first/last, hours and first line', async () => {
      const content = MIXED.join('\n') + '\n';
      const p = touch(write(content), MIXED_MTIME);
      const s = await scanLog(p);
      assert.deepEqual(counts(s), MIXED_COUNTS);
      assert.equal(s.exists, true);
      assert.equal(s.path, p);
      assert.equal(s.totalBytes, Buffer.byteLength(content));
      assert.equal(s.scannedBytes, s.totalBytes);
      assert.equal(s.error, undefined);
    });

    it('reads CRLF line endings the same way', async () => {
      const content = MIXED.join('\r\n') + '\r\n';
      const s = await scanLog(touch(write(content), MIXED_MTIME));
      assert.deepEqual(counts(s), MIXED_COUNTS);
      assert.equal(s.totalBytes, Buffer.byteLength(content));
    });

    it('counts a last line that has no newline', async () => {
      const s = await scanLog(write('starting\nlistening on :8080\n2026-11-26T16:00:00Z error database is locked'));
      assert.deepEqual(counts(s), {
        lockErrors: 1,
        first: '2026-11-26T16:00:00.000Z',
        last: '2026-11-26T16:00:00.000Z',
        perHour: [{ hour: '2026-11-26T16:00:00.000Z', count: 1 }],
        firstLine: 3,
        complete: true,
      });
    });

    it('gives the same answer for every chunk size, with lines and UTF-8 characters across chunk boundaries', async () => {
      // Multi-byte characters right before the dates and phrases: a split character
      // would garble the date or the phrase.
      const lines = [
        'démarrage du proxy ✓',
        '数据库 2026-11-26T10:00:00Z error database is locked ✗',
        'ok 🙂 2026-11-26T10:30:00Z info stored',
        '{"level":50,"time":"2026-11-26T11:15:00.000Z","msg":"échec ✗ — database is locked"}',
        'ünïcödé 2026-11-26T11:45:00Z SQLITE_BUSY 🙂',
        '[12:00:00.000] ERROR: database is locked',
        'ääääääääääääääääääääääääääääääääääääääää account locked',
        '🙂🙂🙂 2026-11-26T12:59:59.999Z database table is locked',
      ];
      // Mixed endings and no final newline.
      const content = lines.map((l, i) => l + (i % 3 === 0 ? '\r\n' : '\n')).join('') + '2026-11-26T13:00:00Z 数据库 database is locked';
      const p = touch(write(content), '2026-11-26T13:30:00Z');
      const expected = {
        lockErrors: 6,
        first: '2026-11-26T10:00:00.000Z',
        last: '2026-11-26T13:00:00.000Z',
        perHour: [
          { hour: '2026-11-26T10:00:00.000Z', count: 1 },
          { hour: '2026-11-26T11:00:00.000Z', count: 2 },
          { hour: '2026-11-26T12:00:00.000Z', count: 2 },
          { hour: '2026-11-26T13:00:00.000Z', count: 1 },
        ],
        firstLine: 2,
        complete: true,
      };
      const size = Buffer.byteLength(content);
      for (const chunkSize of [...Array.from({ length: 40 }, (_, i) => i + 1), 97, 255, size - 1, size, 4096]) {
        const s = await scanLog(p, { chunkSize, maxMs: 60_000 });
        assert.deepEqual(counts(s), expected, `chunkSize ${chunkSize}`);
        assert.equal(s.scannedBytes, size, `chunkSize ${chunkSize}`);
      }
    });

    it('reports a missing file as not existing, without an error', async () => {
      for (const p of [path.join(dir, 'nope.log'), path.join(dir, 'no-such-dir', 'error.log')]) {
        const s = await scanLog(p);
        assert.equal(s.exists, false, p);
        assert.equal(s.lockErrors, 0);
        assert.equal(s.totalBytes, 0);
        assert.equal(s.error, undefined);
      }
    });

    it('says a directory is a directory', async () => {
      const d = path.join(dir, 'logs-dir');
      fs.mkdirSync(d);
      const s = await scanLog(d);
      assert.equal(s.exists, true);
      assert.equal(s.lockErrors, 0);
      assert.match(s.error ?? '', /is a directory/);
    });

    it('does not hang on a named pipe', async function () {
      if (process.platform === 'win32') this.skip(); // no mkfifo there
      const p = path.join(dir, 'fifo.log');
      execFileSync('mkfifo', [p]);
      const s = await Promise.race([
        scanLog(p),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('scanLog hung on a FIFO')), 3000).unref()),
      ]);
      assert.equal(s.exists, true);
      assert.match(s.error ?? '', /not a regular file/);
    });

    it('scans an empty file completely and finds nothing', async () => {
      const s = await scanLog(write(''));
      assert.deepEqual(counts(s), { lockErrors: 0, first: undefined, last: undefined, perHour: [], firstLine: undefined, complete: true });
      assert.equal(s.totalBytes, 0);
      assert.equal(s.scannedBytes, 0);
      assert.equal(s.exists, true);
    });

    it('stops at the byte budget and counts exactly the lines wholly inside the tail', async () => {
      const n = 1000;
      const every = 7;
      const p = write(Array.from({ length: n }, (_, i) => fixedLine(i, every)).join(''));
      // Cut mid-line, exactly at a line start (the cut line is whole), one byte short of it.
      for (const [maxBytes, wholeLines] of [
        [300 * WIDTH + 37, 300],
        [300 * WIDTH, 300],
        [300 * WIDTH - 1, 299],
      ] as const) {
        for (const chunkSize of [64, MiB]) {
          const s = await scanLog(p, { maxBytes, maxMs: 60_000, chunkSize });
          const label = `maxBytes ${maxBytes}, chunkSize ${chunkSize}`;
          assert.deepEqual(counts(s), { ...expectedTail(n - wholeLines, n, every), firstLine: undefined, complete: false }, label);
          assert.equal(s.scannedBytes, maxBytes, label);
          assert.equal(s.totalBytes, n * WIDTH, label);
        }
      }
      // The same file with room to spare is complete and numbers its first lock line.
      const all = await scanLog(p, { maxMs: 60_000 });
      assert.deepEqual(counts(all), { ...expectedTail(0, n, every), firstLine: 1, complete: true });
    });

    it('stops at the time budget after one chunk', async () => {
      const n = 1000;
      const p = write(Array.from({ length: n }, (_, i) => fixedLine(i, 3)).join(''));
      const s = await scanLog(p, { maxMs: 0, chunkSize: 1000 });
      assert.equal(s.scannedBytes, 1000);
      assert.deepEqual(counts(s), { ...expectedTail(n - Math.floor(1000 / WIDTH), n, 3), firstLine: undefined, complete: false });
    });

    it('skips a 20 MB line without a newline, uncounted, and keeps the line numbers right', async () => {
      const giant = 'database is locked ' + 'x'.repeat(20 * MiB) + ' SQLITE_BUSY';
      const lock = '2026-11-26T14:00:00Z error database is locked';
      // At the end without a newline, in the middle, and at the very start.
      const atEnd = await scanLog(write(`starting\n${lock}\nready\n${giant}`), { maxMs: 60_000 });
      assert.deepEqual(counts(atEnd), {
        lockErrors: 1,
        first: '2026-11-26T14:00:00.000Z',
        last: '2026-11-26T14:00:00.000Z',
        perHour: [{ hour: '2026-11-26T14:00:00.000Z', count: 1 }],
        firstLine: 2,
        complete: true,
      });
      assert.equal(atEnd.error, undefined);
      assert.equal(atEnd.scannedBytes, atEnd.totalBytes);

      const inMiddle = await scanLog(write(`${lock}\n${giant}\n${lock}\n`), { maxMs: 60_000 });
      assert.equal(inMiddle.lockErrors, 2);
      assert.equal(inMiddle.firstLine, 1);
      assert.equal(inMiddle.complete, true);

      const atStart = await scanLog(write(`${giant}\r\nok\n${lock}\n`), { maxMs: 60_000 });
      assert.equal(atStart.lockErrors, 1);
      assert.equal(atStart.firstLine, 3);
      assert.equal(atStart.complete, true);
    });

    it('scans the tail of a 200 MB log within the default budgets and without holding it in memory', async function () {
      this.timeout(60_000);
      const width = 200;
      const n = 1_000_000; // 200 MB
      const every = 10;
      const line = (i: number) => {
        const t = T0 + i * 1000;
        const s =
          i % every === 0
            ? `{"level":50,"time":${t},"pid":1,"msg":"failed to store trace","err":{"message":"SQLITE_BUSY: database is locked","code":"SQLITE_BUSY"}}`
            : `{"level":30,"time":${t},"pid":1,"msg":"stored trace ${i}"}`;
        return s.padEnd(width - 1, ' ') + '\n';
      };
      const p = path.join(dir, 'big.log');
      const fd = fs.openSync(p, 'w');
      try {
        for (let i = 0; i < n;) {
          let batch = '';
          for (const end = Math.min(n, i + 5000); i < end; i++) batch += line(i);
          fs.writeSync(fd, batch);
        }
      } finally {
        fs.closeSync(fd);
      }
      try {
        const before = process.memoryUsage().rss;
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
        let s: LogSummary;
        try {
          s = await scanLog(p);
        } finally {
          clearInterval(sampler);
        }
        peak = Math.max(peak, process.memoryUsage().rss);
        assert.equal(s.totalBytes, n * width);
        assert.equal(s.complete, false);
        assert.ok(s.scannedBytes > 0 && s.scannedBytes <= 64 * MiB, `scanned ${s.scannedBytes}`);
        // Whichever budget ended it, the lines wholly inside the scanned tail are counted exactly.
        const whole = Math.floor(s.scannedBytes / width);
        let lockErrors = 0;
        let first: number | undefined;
        const hours = new Map<string, number>();
        for (let i = n - whole; i < n; i++) {
          if (i % every !== 0) continue;
          lockErrors++;
          first ??= T0 + i * 1000;
          hours.set(hourOf(T0 + i * 1000), (hours.get(hourOf(T0 + i * 1000)) ?? 0) + 1);
        }
        assert.deepEqual(counts(s), {
          lockErrors,
          first: first === undefined ? undefined : iso(first),
          last: iso(T0 + (n - every) * 1000),
          perHour: [...hours].map(([hour, count]) => ({ hour, count })),
          firstLine: undefined,
          complete: false,
        });
        assert.ok(lockErrors > 1000, `only ${lockErrors} lock errors in the scanned tail`);
        assert.ok(peak - before < 100 * MiB, `rss grew by ${((peak - before) / MiB).toFixed(1)} MiB`);
      } finally {
        fs.rmSync(p, { force: true });
      }
    });
  });

  describe('events (the real proxy log)', () => {
    const FIXTURES = path.join(__dirname, '..', '..', '..', 'fixtures', 'logs');
    // The pretty fixture's last line was written at 04:36:03 on 2026-11-28.
    const PRETTY_MTIME = '2026-11-28T04:40:00Z';
    /** A copy of a fixture, so its mtime can be set. */
    const fixture = (name: string, mtime?: string) => {
      const p = write(fs.readFileSync(path.join(FIXTURES, name)));
      return mtime === undefined ? p : touch(p, mtime);
    };
    const PRETTY = {
      lockErrors: 2,
      first: '2026-11-27T23:59:59.000Z',
      last: '2026-11-28T04:35:58.000Z',
      perHour: [
        { hour: '2026-11-27T23:00:00.000Z', count: 1 },
        { hour: '2026-11-28T04:00:00.000Z', count: 1 },
      ],
      firstLine: 10,
      complete: true,
    };
    const JSON_LOG = {
      lockErrors: 2,
      first: '2026-11-28T03:12:45.500Z',
      last: '2026-11-28T04:35:58.123Z',
      perHour: [
        { hour: '2026-11-28T03:00:00.000Z', count: 1 },
        { hour: '2026-11-28T04:00:00.000Z', count: 1 },
      ],
      firstLine: 2,
      complete: true,
    };

    it('counts each pino-pretty error once although its err block repeats the phrase, and dates it across midnight', async () => {
      const p = fixture('proxy-pretty.log', PRETTY_MTIME);
      // 8 lines say it: a line count would report 8.
      assert.equal(
        fs
          .readFileSync(p, 'utf8')
          .split('\n')
          .filter((l) => classifyLine(l).lockError).length,
        8,
      );
      const s = await scanLog(p);
      assert.deepEqual(counts(s), PRETTY);
      assert.equal(s.format, 'pino-pretty');
    });

    it('counts each pino JSON line once and takes its epoch time', async () => {
      const s = await scanLog(fixture('proxy-json.log'));
      assert.deepEqual(counts(s), JSON_LOG);
      assert.equal(s.format, 'pino-json');
    });

    it('finds the same events for every chunk size, with events across chunk boundaries', async () => {
      for (const [name, expected, mtime] of [
        ['proxy-pretty.log', PRETTY, PRETTY_MTIME],
        ['proxy-json.log', JSON_LOG, undefined],
      ] as const) {
        const p = fixture(name, mtime);
        const size = fs.statSync(p).size;
        for (const chunkSize of [...Array.from({ length: 80 }, (_, i) => i + 1), 97, 255, size - 1, size, 4096]) {
          assert.deepEqual(counts(await scanLog(p, { chunkSize, maxMs: 60_000 })), expected, `${name}, chunkSize ${chunkSize}`);
        }
      }
    });

    it('counts at the byte budget only the events whose first line is inside the tail', async () => {
      const p = fixture('proxy-pretty.log', PRETTY_MTIME);
      const content = fs.readFileSync(p, 'latin1');
      const size = content.length;
      const head = content.indexOf('[04:35:58 UTC]');
      const block = content.indexOf('    err: {', head);
      for (const chunkSize of [7, 64, MiB]) {
        const whole = await scanLog(p, { maxBytes: size - head, chunkSize, maxMs: 60_000 });
        assert.deepEqual(
          counts(whole),
          { lockErrors: 1, first: PRETTY.last, last: PRETTY.last, perHour: [PRETTY.perHour[1]], firstLine: undefined, complete: false },
          `chunkSize ${chunkSize}`,
        );
        assert.equal((await scanLog(p, { maxBytes: size - head + 1, chunkSize, maxMs: 60_000 })).lockErrors, 1);
        // Its err block without its first line: whose error it is cannot be known.
        assert.equal((await scanLog(p, { maxBytes: size - block, chunkSize, maxMs: 60_000 })).lockErrors, 0, `chunkSize ${chunkSize}`);
      }
    });

    it('reads pino-pretty time shapes and zones, and dates them from the mtime', async () => {
      const at = async (line: string, mtime: string) => {
        const s = await scanLog(touch(write(line + '\n'), mtime));
        assert.equal(s.lockErrors, 1, line);
        return s.last;
      };
      const day = '2026-11-28T06:00:00Z';
      assert.equal(await at('[04:35:58.123] ERROR (12345 on host): database is locked', day), '2026-11-28T04:35:58.123Z');
      assert.equal(await at('[04:35:58.123 UTC] ERROR: database is locked', day), '2026-11-28T04:35:58.123Z');
      assert.equal(await at('[23:35:58 EST] ERROR: database is locked', day), '2026-11-28T04:35:58.000Z');
      assert.equal(await at('[05:35:58 GMT+0100] ERROR: database is locked', day), '2026-11-28T04:35:58.000Z');
      assert.equal(await at('[05:35:58 +01:00] ERROR: database is locked', day), '2026-11-28T04:35:58.000Z');
      assert.equal(await at('ERROR [04:35:58.123]: database is locked', day), '2026-11-28T04:35:58.123Z');
      // A zone it cannot convert: counted, but no time rather than a wrong one.
      assert.equal(await at('[04:35:58 XYZ] ERROR: database is locked', day), undefined);
      // Later in the day than the mtime: the day before.
      assert.equal(await at('[23:50:00 UTC] ERROR: database is locked', '2026-11-28T00:10:00Z'), '2026-11-27T23:50:00.000Z');
      // An mtime rounded down to the second is not a midnight.
      assert.equal(await at('[04:35:58.900 UTC] ERROR: database is locked', '2026-11-28T04:35:58Z'), '2026-11-28T04:35:58.900Z');
    });

    it('walks back one day per midnight, also through normal events, and not for slight disorder', async () => {
      const p = touch(
        write(
          [
            '[10:00:00 UTC] ERROR: database is locked', // the 25th
            '[09:00:00 UTC] INFO: incoming request', // the 26th
            '[08:00:00 UTC] INFO: request completed', // the 27th
            '[07:00:00.500 UTC] ERROR: database is locked', // the 28th
            '[07:00:00.100 UTC] INFO: request completed', // written after, stamped before: the same day
            '',
          ].join('\n'),
        ),
        '2026-11-28T12:00:00Z',
      );
      const s = await scanLog(p, { chunkSize: 16 });
      assert.equal(s.lockErrors, 2);
      assert.equal(s.first, '2026-11-25T10:00:00.000Z');
      assert.equal(s.last, '2026-11-28T07:00:00.500Z');
    });

    it('counts a plain line and the stack trace under it once, whichever of its lines says it', async () => {
      const content = [
        '2026-11-28T04:35:58Z ERROR database is locked',
        '    at Database.prepare (wrappers.js:5:21)',
        '    at SqliteStorage.saveTrace (storage-sqlite.js:88:28) SQLITE_BUSY',
        '2026-11-28T04:36:00Z ERROR failed to save the error trace',
        '    SqliteError: database is locked',
        '        at Database.prepare (wrappers.js:5:21)',
        '2026-11-28T04:36:01Z INFO request completed',
        '',
      ].join('\n');
      const p = write(content);
      for (const chunkSize of [1, 5, 33, MiB]) {
        const s = await scanLog(p, { chunkSize, maxMs: 60_000 });
        assert.deepEqual(
          counts(s),
          {
            lockErrors: 2,
            first: '2026-11-28T04:35:58.000Z',
            last: '2026-11-28T04:36:00.000Z',
            perHour: [{ hour: '2026-11-28T04:00:00.000Z', count: 2 }],
            firstLine: 1,
            complete: true,
          },
          `chunkSize ${chunkSize}`,
        );
        assert.equal(s.format, 'plain');
      }
    });

    it('counts indented lines the file starts with (cut mid-event) as one event', async () => {
      const p = write('      "message": "database is locked",\n      "code": "SQLITE_BUSY"\n    }\n[04:00:00 UTC] INFO: ok\n    reqId: "req-9"\n');
      for (const chunkSize of [1, 8, MiB]) {
        const s = await scanLog(p, { chunkSize, maxMs: 60_000 });
        assert.equal(s.lockErrors, 1);
        assert.equal(s.firstLine, 1);
        assert.equal(s.first, undefined);
      }
      // ... and none when the scan did not reach the start: their first line is unknown.
      const cut = await scanLog(p, { maxBytes: fs.statSync(p).size - 5 });
      assert.equal(cut.lockErrors, 0);
    });
  });

  describe('LogTail', () => {
    const lockAt = (minute: number) => `2026-11-26T14:${String(minute).padStart(2, '0')}:00Z error SqliteError: database is locked\n`;

    /** The tail must always agree with a fresh full scan of the same bytes. */
    async function agrees(tail: LogSummary, p: string) {
      const fresh = await scanLog(p, { maxMs: 60_000 });
      assert.deepEqual(counts(tail), counts(fresh));
      assert.equal(tail.totalBytes, fresh.totalBytes);
    }

    it('adds exactly what was appended, including lines written in pieces', async () => {
      const p = write(`starting\n${lockAt(1)}ready\n`);
      const tail = new LogTail(p, { chunkSize: 16 });
      const s1 = await tail.update();
      assert.equal(s1.lockErrors, 1);
      assert.equal(s1.firstLine, 2);

      fs.appendFileSync(p, `${lockAt(5)}info stored\n${lockAt(9)}`);
      const s2 = await tail.update();
      assert.equal(s2.lockErrors, 3);
      assert.equal(s2.last, '2026-11-26T14:09:00.000Z');
      assert.deepEqual(s2.perHour, [{ hour: '2026-11-26T14:00:00.000Z', count: 3 }]);
      assert.equal(s2.scannedBytes, fs.statSync(p).size);
      await agrees(s2, p);

      // Unchanged: the previous summary comes back as is (only a stat was done).
      assert.equal(await tail.update(), s2);

      // The phrase split across two writes counts once, when the line is whole.
      fs.appendFileSync(p, '2026-11-26T14:20:00Z error database is lo');
      const s3 = await tail.update();
      assert.equal(s3.lockErrors, 3);
      fs.appendFileSync(p, 'cked\n');
      const s4 = await tail.update();
      assert.equal(s4.lockErrors, 4);
      assert.equal(s4.last, '2026-11-26T14:20:00.000Z');
      await agrees(s4, p);

      // A lock line without its newline yet counts now, and not again once finished.
      fs.appendFileSync(p, '2026-11-26T15:30:00Z error SQLITE_BUSY');
      const s5 = await tail.update();
      assert.equal(s5.lockErrors, 5);
      assert.equal(s5.last, '2026-11-26T15:30:00.000Z');
      await agrees(s5, p);
      fs.appendFileSync(p, ' retrying\nok\n');
      const s6 = await tail.update();
      assert.equal(s6.lockErrors, 5);
      assert.deepEqual(s6.perHour, [
        { hour: '2026-11-26T14:00:00.000Z', count: 4 },
        { hour: '2026-11-26T15:00:00.000Z', count: 1 },
      ]);
      await agrees(s6, p);
    });

    it('counts a pino-pretty error written in pieces once: first line, then its err block', async () => {
      const mtime = '2026-11-28T04:40:00Z';
      const p = touch(write('[04:35:50 UTC] INFO: incoming request\n    reqId: "req-2"\n'), mtime);
      const tail = new LogTail(p, { chunkSize: 16 });
      assert.equal((await tail.update()).lockErrors, 0);
      const step = async (text: string, lockErrors: number) => {
        fs.appendFileSync(p, text);
        touch(p, mtime);
        const s = await tail.update();
        assert.equal(s.lockErrors, lockErrors, JSON.stringify(text));
        await agrees(s, p);
        return s;
      };
      const s1 = await step('[04:35:58 UTC] ERROR: database is locked\n', 1);
      assert.equal(s1.last, '2026-11-28T04:35:58.000Z');
      assert.equal(s1.firstLine, 3);
      await step('    reqId: "req-2"\n    err: {\n      "type": "SqliteError",\n      "message": "database is lo', 1);
      await step('cked",\n      "stack":\n          SqliteError: database is locked\n', 1);
      await step('              at Database.prepare (wrappers.js:5:21)\n      "code": "SQLITE_BUSY"\n    }\n', 1);
      const s2 = await step('[04:36:03 UTC] INFO: request completed\n    res: {\n', 1);
      assert.deepEqual(s2.perHour, [{ hour: '2026-11-28T04:00:00.000Z', count: 1 }]);
      // A first line that does not say it, then an err block that does: counted once, when it comes.
      await step('[04:37:00 UTC] ERROR: failed to store trace\n    reqId: "req-3"\n', 1);
      const s3 = await step('    err: {\n      "code": "SQLITE_BUSY"\n', 2);
      assert.equal(s3.last, '2026-11-28T04:37:00.000Z');
      assert.equal((await step('    }\n[04:37:01 UTC] INFO: ok\n', 2)).format, 'pino-pretty');
    });

    it('agrees with a fresh scan however the pretty fixture is cut between scan and appends', async () => {
      const full = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'fixtures', 'logs', 'proxy-pretty.log'));
      const mtime = '2026-11-28T04:40:00Z';
      for (const cut of [0, 1, 200, 400, 600, 643, 900, 1200, 1500, full.length - 3]) {
        const p = touch(write(full.subarray(0, cut)), mtime);
        const tail = new LogTail(p, { chunkSize: 13 });
        await tail.update();
        for (let at = cut; at < full.length; at += 97) {
          fs.appendFileSync(p, full.subarray(at, Math.min(full.length, at + 97)));
          touch(p, mtime);
          const s = await tail.update();
          assert.ok(s.lockErrors <= 2, `cut ${cut} at ${at}: ${s.lockErrors}`);
          await agrees(s, p);
        }
        const s = await tail.update();
        assert.deepEqual(
          counts(s),
          {
            lockErrors: 2,
            first: '2026-11-27T23:59:59.000Z',
            last: '2026-11-28T04:35:58.000Z',
            perHour: [
              { hour: '2026-11-27T23:00:00.000Z', count: 1 },
              { hour: '2026-11-28T04:00:00.000Z', count: 1 },
            ],
            firstLine: 10,
            complete: true,
          },
          `cut ${cut}`,
        );
      }
    });

    it('dates appended times of day that go down on the next day', async () => {
      const p = touch(write('[23:59:58 UTC] INFO: incoming request\n'), '2026-11-27T23:59:58.500Z');
      const tail = new LogTail(p);
      await tail.update();
      fs.appendFileSync(p, '[23:59:59 UTC] ERROR: database is locked\n    err: {\n      "code": "SQLITE_BUSY"\n    }\n');
      touch(p, '2026-11-27T23:59:59.500Z');
      assert.equal((await tail.update()).last, '2026-11-27T23:59:59.000Z');
      fs.appendFileSync(p, '[00:00:02 UTC] ERROR: database is locked\n');
      touch(p, '2026-11-28T00:00:02.500Z');
      const s = await tail.update();
      assert.equal(s.lockErrors, 2);
      assert.equal(s.first, '2026-11-27T23:59:59.000Z');
      assert.equal(s.last, '2026-11-28T00:00:02.000Z');
      await agrees(s, p);
    });

    it('dates an error after days of silence by the polls that saw nothing new', async () => {
      const now = Date.now();
      const tod = (ms: number) => new Date(ms).toISOString().slice(11, 19);
      // Three days ago, two hours later in the day than now: counting midnights alone would put the next error two days early.
      const before = now - 3 * 86_400_000 + 2 * 3_600_000;
      const p = touch(write(`[${tod(before)} UTC] ERROR: database is locked\n`), before + 500);
      const tail = new LogTail(p);
      await tail.update();
      await tail.update(); // nothing new: whatever comes next was written after this poll
      const at = now - (now % 1000);
      fs.appendFileSync(p, `[${tod(at)} UTC] ERROR: database is locked\n`);
      touch(p, at + 500);
      const s = await tail.update();
      assert.equal(s.lockErrors, 2);
      assert.equal(s.last, new Date(at).toISOString());
    });

    it('does not count twice a lock line the first scan found unfinished', async () => {
      const p = write(`starting\n${lockAt(0)}2026-11-26T15:10:00Z error SQLITE_BUSY`);
      const tail = new LogTail(p, { chunkSize: 7 });
      const s1 = await tail.update();
      assert.equal(s1.lockErrors, 2);
      assert.equal(s1.last, '2026-11-26T15:10:00.000Z');
      fs.appendFileSync(p, ': database is locked\nok\n');
      const s2 = await tail.update();
      assert.equal(s2.lockErrors, 2);
      assert.equal(s2.firstLine, 2);
      await agrees(s2, p);
    });

    it('numbers the first lock error when it arrives in an append', async () => {
      const p = write('a\nb\nc\n');
      const tail = new LogTail(p);
      const s1 = await tail.update();
      assert.equal(s1.lockErrors, 0);
      assert.equal(s1.firstLine, undefined);
      fs.appendFileSync(p, `d\n${lockAt(0)}${lockAt(1)}`);
      const s2 = await tail.update();
      assert.equal(s2.firstLine, 5);
      assert.equal(s2.lockErrors, 2);
    });

    it('serves overlapping updates one after the other', async () => {
      const p = write(lockAt(0));
      const tail = new LogTail(p);
      await tail.update();
      fs.appendFileSync(p, lockAt(1) + lockAt(2));
      const [a, b] = await Promise.all([tail.update(), tail.update()]);
      assert.equal(a.lockErrors, 3);
      assert.equal(b.lockErrors, 3);
    });

    it('rescans a truncated file', async () => {
      const p = write(Array.from({ length: 10 }, (_, i) => lockAt(i)).join(''));
      const tail = new LogTail(p);
      assert.equal((await tail.update()).lockErrors, 10);
      fs.writeFileSync(p, `fresh start\n${lockAt(30)}${lockAt(31)}`);
      const s = await tail.update();
      assert.equal(s.lockErrors, 2);
      assert.equal(s.first, '2026-11-26T14:30:00.000Z');
      assert.equal(s.firstLine, 2);
      await agrees(s, p);
    });

    it('rescans a rotated file even when the new one is larger', async () => {
      const p = write(Array.from({ length: 3 }, (_, i) => lockAt(i)).join(''));
      const tail = new LogTail(p);
      assert.equal((await tail.update()).lockErrors, 3);
      fs.renameSync(p, p + '.1');
      fs.writeFileSync(p, 'x'.repeat(500) + '\n' + lockAt(40) + 'y'.repeat(500) + '\n');
      const s = await tail.update();
      assert.equal(s.lockErrors, 1);
      assert.equal(s.first, '2026-11-26T14:40:00.000Z');
      await agrees(s, p);
    });

    it('follows the file going away and coming back', async () => {
      const p = write(lockAt(0));
      const tail = new LogTail(p);
      assert.equal((await tail.update()).lockErrors, 1);
      fs.rmSync(p);
      const gone = await tail.update();
      assert.equal(gone.exists, false);
      assert.equal(gone.lockErrors, 0);
      assert.equal(await tail.update(), gone);
      fs.writeFileSync(p, lockAt(1) + lockAt(2));
      const back = await tail.update();
      assert.equal(back.exists, true);
      assert.equal(back.lockErrors, 2);
    });

    it('rescans within the budget when more than maxBytes was appended', async () => {
      const p = write(fixedLine(0, 1));
      const tail = new LogTail(p, { maxBytes: 50 * WIDTH });
      assert.equal((await tail.update()).complete, true);
      fs.appendFileSync(p, Array.from({ length: 199 }, (_, i) => fixedLine(i + 1, 4)).join(''));
      const s = await tail.update();
      assert.equal(s.complete, false);
      assert.equal(s.scannedBytes, 50 * WIDTH);
      assert.equal(s.lockErrors, expectedTail(150, 200, 4).lockErrors);
    });
  });
});
