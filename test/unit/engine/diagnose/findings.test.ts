import * as assert from 'node:assert/strict';
import { deriveFindings, isHealthy, worstSeverity, WAL_LARGE_BYTES, type FindingInput } from '../../../../src/engine/diagnose/findings';
import { classifyFs, findMount, parseMounts } from '../../../../src/engine/diagnose/filesystem';
import { parseHeader } from '../../../../src/engine/sqlite/header';
import type { HeldLock, Holder } from '../../../../src/shared/model';

const none = { exists: false, size: 0, mtimeMs: 0 };
const base: FindingInput = {
  path: '/w/.ai-tests/traces.db',
  files: { db: { exists: true, size: 8192, mtimeMs: 1 }, wal: none, shm: none, journal: none },
  journalMode: 'wal',
  hotJournal: false,
  locks: [],
  holders: [],
  now: Date.parse('2026-11-26T12:00:00Z'),
};

function lock(pid: number, l: HeldLock['lock'], stuck = false): HeldLock {
  return { pid, lock: l, file: l.startsWith('WAL') || l === 'CHECKPOINT' ? 'shm' : 'db', type: 'write', waiting: false, since: 0, stuck };
}
function holder(pid: number, self = false): Holder {
  return {
    pid,
    command: `node worker-${pid}.js`,
    kind: self ? 'doctor' : 'other',
    label: self ? 'Trace DB Doctor' : 'node process',
    files: ['db'],
    locks: [],
    self,
  };
}

describe('findings', () => {
  it('a WAL DB with nothing else is healthy', () => {
    const f = deriveFindings(base);
    assert.deepEqual(f, []);
    assert.equal(isHealthy(f), true);
    assert.equal(worstSeverity(f), undefined);
  });

  it('not WAL: a warning whose first fix is Enable WAL', () => {
    const f = deriveFindings({ ...base, journalMode: 'delete' });
    assert.equal(f[0].code, 'not-wal');
    assert.equal(f[0].severity, 'warning');
    assert.deepEqual(f[0].fixes, ['enableWal', 'longTermFix', 'increaseTimeout']);
    assert.equal(isHealthy(f), false);
  });

  it('a momentary write lock is info; the same lock held across samples is a stuck writer (error) naming the PID and command', () => {
    const now = deriveFindings({ ...base, journalMode: 'delete', locks: [lock(42, 'RESERVED')], holders: [holder(42)] });
    assert.equal(now.find((x) => x.code === 'lock-held')?.severity, 'info');
    const stuck = deriveFindings({ ...base, journalMode: 'delete', locks: [lock(42, 'RESERVED', true)], holders: [holder(42)] });
    const s = stuck.find((x) => x.code === 'stuck-writer')!;
    assert.equal(s.severity, 'error');
    assert.deepEqual(s.pids, [42]);
    assert.match(s.message, /PID 42 \(node process: node worker-42\.js\)/);
    assert.ok(s.fixes.includes('killBlocker'));
    assert.equal(stuck[0].code, 'stuck-writer', 'errors sort first');
  });

  it('a long reader blocks writers in rollback mode (error) but only checkpoints in WAL mode (warning)', () => {
    const rollback = deriveFindings({ ...base, journalMode: 'delete', locks: [lock(7, 'SHARED', true)], holders: [holder(7)] });
    assert.equal(rollback.find((x) => x.code === 'long-reader')?.severity, 'error');
    const wal = deriveFindings({ ...base, locks: [lock(7, 'WAL_READ', true)], holders: [holder(7)] });
    assert.equal(wal.find((x) => x.code === 'long-reader')?.severity, 'warning');
  });

  it("never blames the doctor's own locks, nor the WAL_OPEN every connection holds", () => {
    const f = deriveFindings({ ...base, locks: [lock(1, 'WAL_READ', true), lock(9, 'WAL_OPEN', true)], holders: [holder(1, true), holder(9)] });
    assert.deepEqual(f, []);
  });

  it('an idle WAL connection (SHARED + WAL_OPEN, held forever) is not a lock problem', () => {
    const f = deriveFindings({ ...base, locks: [lock(5, 'SHARED', true), lock(5, 'WAL_OPEN', true)], holders: [holder(5)] });
    assert.deepEqual(f, []);
  });

  it('a large WAL asks for a checkpoint', () => {
    const f = deriveFindings({ ...base, files: { ...base.files, wal: { exists: true, size: WAL_LARGE_BYTES + 1, mtimeMs: 1 } } });
    assert.equal(f[0].code, 'wal-large');
    assert.deepEqual(f[0].fixes, ['checkpoint', 'showHolders']);
  });

  it('lock errors in the log: recent ones warn, old ones after WAL are history', () => {
    const log = { path: '/l', exists: true, lockErrors: 3, perHour: [], totalBytes: 10, scannedBytes: 10, complete: true };
    const recent = deriveFindings({ ...base, journalMode: 'delete', log: { ...log, last: '2026-11-26T11:50:00.000Z' } });
    const r = recent.find((x) => x.code === 'lock-errors-in-log')!;
    assert.equal(r.severity, 'warning');
    assert.ok(r.fixes.includes('enableWal'));
    const old = deriveFindings({ ...base, log: { ...log, last: '2026-11-25T08:00:00.000Z' } });
    assert.equal(old.find((x) => x.code === 'lock-errors-in-log')?.severity, 'info');
    assert.match(old[0].message, /None in the last hour: history/);
    assert.match(old[0].title, /last seen 28 h ago/);
    assert.equal(isHealthy(old), true, 'only old errors: healthy, the CLI exits 0');
    // Older than an hour is history even before WAL (the not-WAL warning stays on its own).
    const oldRollback = deriveFindings({ ...base, journalMode: 'delete', log: { ...log, last: '2026-11-26T09:00:00.000Z' } });
    assert.equal(oldRollback.find((x) => x.code === 'lock-errors-in-log')?.severity, 'info');
  });

  it('errors from before a recorded switch to WAL are history, errors after it a problem', () => {
    const log = { path: '/l', exists: true, lockErrors: 2, perHour: [], totalBytes: 10, scannedBytes: 10, complete: true, last: '2026-11-26T11:40:00.000Z' };
    const before = deriveFindings({ ...base, log, walSince: Date.parse('2026-11-26T11:45:00Z') });
    assert.equal(before[0].severity, 'info');
    assert.match(before[0].message, /None since the database was switched to WAL/);
    // Logged while the doctor's own Enable WAL run was switching: said as such, never "none since".
    const during = deriveFindings({ ...base, log, walSince: Date.parse('2026-11-26T11:40:01Z'), walRunStartedAt: Date.parse('2026-11-26T11:39:59Z') });
    assert.equal(during[0].severity, 'info');
    assert.match(during[0].message, /while Enable WAL was switching/);
    assert.doesNotMatch(during[0].message, /WAL fixed them/);
    const after = deriveFindings({ ...base, log, walSince: Date.parse('2026-11-26T11:30:00Z') });
    assert.equal(after[0].severity, 'warning');
    assert.match(after[0].message, /yet they continue/);
  });

  it("a stuck writer that is not the proxy is named the blocker, with Kill offered; the proxy's own is a long transaction with Restart", () => {
    const script: Holder = {
      pid: 21898,
      command: 'python3 notebook.py /repo/packages/proxy/.ai-tests/traces.db',
      kind: 'script',
      label: 'python3 notebook.py',
      files: ['db'],
      locks: ['RESERVED'],
      self: false,
      blocker: true,
    };
    const proxy: Holder = {
      pid: 300,
      command: 'node dist/index.js',
      kind: 'proxy',
      label: 'TraceForge proxy',
      files: ['db'],
      locks: ['RESERVED'],
      self: false,
    };
    const stuck = (pid: number) => ({ ...lock(pid, 'RESERVED', true), since: base.now - 6200 });
    const blocked = deriveFindings({ ...base, journalMode: 'delete', locks: [stuck(21898)], holders: [script, proxy] });
    const b = blocked.find((x) => x.code === 'stuck-writer')!;
    assert.equal(b.title, 'Blocked by PID 21898 (python3 notebook.py)');
    assert.match(b.message, /has held RESERVED on traces\.db for 6 s/);
    assert.deepEqual(b.fixes, ['killBlocker', 'showHolders']);
    assert.doesNotMatch(b.message, /TraceForge proxy/);
    const own = deriveFindings({ ...base, journalMode: 'delete', locks: [stuck(300)], holders: [script, proxy] }).find((x) => x.code === 'stuck-writer')!;
    assert.match(own.title, /The proxy holds the write lock/);
    assert.ok(own.fixes.includes('restartProxy') && !own.fixes.includes('killBlocker'));
  });

  it('after the doctor saw the switch to WAL, only new lock errors keep the warning', () => {
    const log = { path: '/l', exists: true, lockErrors: 5, perHour: [], totalBytes: 10, scannedBytes: 10, complete: true, last: '2026-11-26T11:59:00.000Z' };
    const fixed = deriveFindings({ ...base, log, logErrorsBeforeWal: 5 });
    assert.equal(fixed[0].severity, 'info');
    assert.match(fixed[0].message, /None since the database was switched to WAL/);
    const again = deriveFindings({ ...base, log: { ...log, lockErrors: 6 }, logErrorsBeforeWal: 5 });
    assert.equal(again[0].severity, 'warning');
  });

  it('unsafe filesystem: warning before WAL, error once in WAL', () => {
    const fs = { mountPoint: '/mnt/c', fsType: '9p', device: 'C:', unsafeForWal: true, reason: 'a host share' };
    assert.equal(deriveFindings({ ...base, journalMode: 'delete', fs }).find((x) => x.code === 'unsafe-fs')?.severity, 'warning');
    assert.equal(deriveFindings({ ...base, fs }).find((x) => x.code === 'unsafe-fs')?.severity, 'error');
  });

  it('a missing DB yields only that finding', () => {
    const f = deriveFindings({ ...base, journalMode: 'unknown', unreachable: { code: 'missing', detail: '' } });
    assert.deepEqual(
      f.map((x) => x.code),
      ['missing'],
    );
    assert.deepEqual(f[0].fixes, ['chooseDatabase']);
  });
});

describe('filesystem', () => {
  const mounts = parseMounts(
    [
      'overlay / overlay rw 0 0',
      '/dev/vda /work ext4 rw 0 0',
      'server:/export /work/nfs nfs4 rw 0 0',
      'C:\\134 /mnt/c 9p rw 0 0',
      'me@host:/x /home/me/remote\\040dir fuse.sshfs rw 0 0',
    ].join('\n'),
  );

  it('finds the longest mount point and decodes escapes', () => {
    assert.equal(findMount(mounts, '/work/main/.ai-tests/traces.db')?.fsType, 'ext4');
    assert.equal(findMount(mounts, '/work/nfs/traces.db')?.fsType, 'nfs4');
    assert.equal(findMount(mounts, '/work/nfsother/traces.db')?.fsType, 'ext4');
    assert.equal(findMount(mounts, '/home/me/remote dir/t.db')?.fsType, 'fuse.sshfs');
    assert.equal(findMount(mounts, '/tmp/t.db')?.fsType, 'overlay');
  });

  it('calls network, host-share and FUSE network mounts unsafe for WAL', () => {
    for (const t of ['nfs', 'nfs4', 'cifs', 'smb3', '9p', 'fuse.sshfs', 'fuse.rclone']) assert.equal(classifyFs(t).unsafe, true, t);
    for (const t of ['ext4', 'xfs', 'btrfs', 'overlay', 'tmpfs', 'apfs']) assert.equal(classifyFs(t).unsafe, false, t);
  });
});

describe('header parsing', () => {
  function header(opts: { wal?: boolean; pageSize?: number } = {}): Buffer {
    const b = Buffer.alloc(100);
    b.write('SQLite format 3\0', 0, 'latin1');
    b.writeUInt16BE(opts.pageSize ?? 4096, 16);
    b[18] = b[19] = opts.wal ? 2 : 1;
    b[21] = 64;
    b[22] = 32;
    b[23] = 32;
    b.writeUInt32BE(5, 24);
    b.writeUInt32BE(10, 28);
    b.writeUInt32BE(5, 92);
    b.writeUInt32BE(1, 56);
    return b;
  }

  it('reads WAL vs legacy from bytes 18-19, and the page count when valid', () => {
    assert.equal(parseHeader(header({ wal: true })).header?.wal, true);
    const h = parseHeader(header()).header!;
    assert.equal(h.wal, false);
    assert.equal(h.pageCount, 10);
    assert.equal(h.pageCountValid, true);
    assert.equal(h.textEncoding, 'utf-8');
  });

  it('page size 1 means 65536; other odd sizes are corruption', () => {
    assert.equal(parseHeader(header({ pageSize: 1 })).header?.pageSize, 65536);
    assert.equal(parseHeader(header({ pageSize: 1000 })).problem?.kind, 'corrupt');
  });

  it('tells empty, foreign and cut-off files apart', () => {
    assert.equal(parseHeader(Buffer.alloc(0)).problem?.kind, 'empty');
    assert.equal(parseHeader(Buffer.from('PK\x03\x04 zip file')).problem?.kind, 'not-a-database');
    assert.equal(parseHeader(header().subarray(0, 40)).problem?.kind, 'truncated');
  });
});
