// The status bar, tree and fix picker models, from real reports of real databases.
import * as assert from 'node:assert/strict';
import { inspect, Inspector } from '../../../../src/engine/diagnose/inspect';
import type { DbEntry } from '../../../../src/host/health/dbEntry';
import { fixChoices } from '../../../../src/host/health/fixChoices';
import { statusModel } from '../../../../src/host/health/statusModel';
import { treeModel, type TreeNodeModel } from '../../../../src/host/health/treeModel';
import { formatReport } from '../../../../src/shared/reportText';
import type { HealthReport } from '../../../../src/shared/model';
import { startActor, traceWorkspace } from '../../../support/helpers';
import { healthyReport } from '../../../support/reports';

function entry(report: DbEntry['report'], name = 'repo', dbPath = report?.path ?? '/x'): DbEntry {
  return { folderUri: `file:///${name}`, folderName: name, dbPath, report };
}

function flatten(nodes: TreeNodeModel[]): TreeNodeModel[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children ?? [])]);
}

describe('presentation: status bar', () => {
  it('healthy WAL DB: `$(database) traces.db · WAL`, no warning', async () => {
    const { db } = await traceWorkspace({ rows: 5, journalMode: 'wal' });
    const m = statusModel([entry(await inspect(db, { mode: 'full' }))]);
    assert.equal(m.visible, true);
    assert.equal(m.level, 'ok');
    assert.equal(m.text, '$(database) traces.db · WAL');
    assert.match(m.tooltip[0], /≈5 traces/);
  });

  it('not WAL: a warning item "traces.db: not WAL"', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const m = statusModel([entry(await inspect(db, { mode: 'passive' }))]);
    assert.equal(m.level, 'warning');
    assert.equal(m.text, '$(warning) traces.db: not WAL');
  });

  it('a lock held across two looks is an error naming the PID; a lock seen once is not an alarm', async () => {
    const { db } = await traceWorkspace({ rows: 5, journalMode: 'wal' });
    const actor = await startActor('hold-write', db);
    const inspector = new Inspector(db, { stuckAfterMs: 200 });
    const once = statusModel([entry(await inspector.check({ mode: 'passive' }))]);
    await new Promise((r) => setTimeout(r, 250));
    const twice = statusModel([entry(await inspector.check({ mode: 'passive' }))]);
    await actor.stop();
    assert.equal(once.level, 'ok');
    assert.equal(twice.level, 'error');
    assert.equal(twice.text, `$(error) traces.db: locked by PID ${actor.pid}`);
  });

  it('corrupt or unreadable is an error; a missing DB hides the item', async () => {
    const m = statusModel([entry(await inspect('/nonexistent/.ai-tests/traces.db', { mode: 'passive' }))]);
    assert.equal(m.visible, false);
    const bad = await inspect(__filename, { mode: 'passive' });
    const m2 = statusModel([entry(bad)]);
    assert.equal(m2.level, 'error');
    assert.match(m2.text, /not a database/);
  });

  it('multi-root: the worst folder wins and the tooltip lists all', async () => {
    const a = await traceWorkspace({ rows: 5, journalMode: 'wal' });
    const b = await traceWorkspace({ rows: 5 });
    const m = statusModel([entry(await inspect(a.db, { mode: 'full' }), 'good'), entry(await inspect(b.db, { mode: 'full' }), 'legacy')]);
    assert.equal(m.level, 'warning');
    assert.equal(m.entry?.folderName, 'legacy');
    assert.ok(m.tooltip.some((l) => l.startsWith('**good**')));
    assert.ok(m.tooltip.some((l) => l.startsWith('**legacy**')));
  });
});

describe('presentation: fixes', () => {
  it('Enable WAL comes first for a non-WAL DB, then the other fixes that have commands', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const actor = await startActor('hold-read', db);
    const r = await inspect(db, { mode: 'passive', stuckAfterMs: 10, confirmStuck: true });
    await actor.stop();
    const fixes = fixChoices([entry(r)]).map((c) => c.fix);
    assert.equal(fixes[0], 'enableWal');
    assert.ok(fixes.includes('killBlocker'));
    assert.ok(fixes.includes('showHolders'));
    assert.ok(fixes.includes('longTermFix'), "the runbook's long-term fix in code is offered too");
    assert.equal(new Set(fixes).size, fixes.length, 'no duplicates');
  });

  it('a healthy DB offers no fix; multi-root fixes name their folder', async () => {
    const a = await traceWorkspace({ rows: 5, journalMode: 'wal' });
    assert.deepEqual(fixChoices([entry(await inspect(a.db, { mode: 'full' }))]), []);
    const b = await traceWorkspace({ rows: 5 });
    const both = fixChoices([entry(await inspect(a.db, { mode: 'full' }), 'a'), entry(await inspect(b.db, { mode: 'full' }), 'b')]);
    assert.equal(both[0].reason.startsWith('b: '), true);
  });
});

describe('presentation: health tree', () => {
  it('has the runbook sections; problems carry their fixes in contextValue; locks show the PID', async () => {
    const { root, db } = await traceWorkspace({ rows: 5 });
    const actor = await startActor('hold-write', db);
    const r = await inspect(db, { mode: 'full', logPath: `${root}/packages/proxy/logs/error.log` });
    const nodes = treeModel(entry(r));
    await actor.stop();
    assert.deepEqual(
      nodes.map((n) => n.label),
      ['Problems', 'Database', 'Files', 'Locks now', 'Processes with the DB open', 'Proxy log'],
    );
    const all = flatten(nodes);
    const notWal = all.find((n) => n.id.includes('finding/not-wal'))!;
    assert.match(notWal.contextValue!, /\bfinding\b/);
    assert.match(notWal.contextValue!, /\bfix:enableWal\b/);
    const lock = all.find((n) => n.label === 'RESERVED')!;
    assert.equal(lock.description, `PID ${actor.pid} node actor.cjs`, 'the PID and what the process is');
    const holder = all.find((n) => n.label === `PID ${actor.pid}`)!;
    assert.equal(holder.contextValue, 'holder');
    assert.ok(new Set(all.map((n) => n.id)).size === all.length, 'ids are unique');
  });

  it('no lock: says so', async () => {
    const { db } = await traceWorkspace({ rows: 5, journalMode: 'wal' });
    const all = flatten(treeModel(entry(await inspect(db, { mode: 'full' }))));
    assert.ok(all.some((n) => n.label === 'No lock held'));
    assert.equal(all.find((n) => n.label === 'Problems')?.description, 'none');
  });
});

describe('presentation: what stays still on screen', () => {
  const base = (): HealthReport => healthyReport('/r/packages/proxy/.ai-tests/traces.db');

  const proxy = {
    pid: 300,
    command: 'node dist/index.js',
    kind: 'proxy' as const,
    label: 'TraceForge proxy',
    files: ['db' as const],
    locks: ['WAL_WRITE' as const],
    self: false,
  };

  it('the proxy committing is not news: no lock row, a quiet description, the same section ids as when idle', () => {
    const idle = treeModel(entry(base()));
    const committing = {
      ...base(),
      holders: [proxy],
      locks: [{ pid: 300, lock: 'WAL_WRITE' as const, file: 'shm' as const, type: 'write' as const, waiting: false, since: Date.now(), stuck: false }],
    };
    const busy = treeModel(entry(committing));
    assert.deepEqual(
      busy.map((n) => n.id),
      idle.map((n) => n.id),
      'sections keep their ids, so VS Code keeps their expansion',
    );
    const locks = busy.find((n) => n.label === 'Locks now')!;
    assert.equal(locks.description, 'proxy committing');
    assert.equal(locks.children!.length, 1);
    assert.match(locks.children![0].label, /No lock held long/);
    // The proxy's own momentary lock is no finding either.
    assert.equal(fixChoices([entry(committing)]).length, 0);
  });

  it('words, not lock names: the holder says what it does; times say how long ago, exact in the tooltip', () => {
    const r = {
      ...base(),
      journalMode: 'delete' as const,
      holders: [{ ...proxy, locks: ['EXCLUSIVE' as const, 'PENDING' as const, 'RESERVED' as const] }],
      log: {
        path: '/l',
        exists: true,
        lockErrors: 2,
        perHour: [{ hour: '2026-11-28T03:00:00.000Z', count: 2 }],
        totalBytes: 1,
        scannedBytes: 1,
        complete: true,
        last: new Date(Date.now() - 3 * 3600_000).toISOString(),
      },
    };
    const all = flatten(treeModel(entry(r)));
    assert.equal(all.find((n) => n.label === 'PID 300')!.description, 'TraceForge proxy · committing');
    assert.match(all.find((n) => n.label === 'PID 300')!.tooltip!, /EXCLUSIVE, PENDING, RESERVED/);
    assert.equal(all.find((n) => n.label === 'Journal mode')!.description, 'rollback journal (delete), not WAL');
    const last = all.find((n) => n.label === 'Last')!;
    assert.equal(last.description, '3 h ago');
    assert.equal(last.tooltip, r.log.last);
    assert.ok(all.some((n) => n.label === '2026-11-28 03:00–04:00 UTC' && n.description === '2 events'));
  });

  it('the fix picker: each fix once, with an icon, grouped under its finding; never Enable WAL on a WAL DB', () => {
    const notWal = {
      code: 'not-wal' as const,
      severity: 'warning' as const,
      title: 'Journal mode is delete, not WAL',
      message: '',
      fixes: ['enableWal' as const, 'longTermFix' as const, 'increaseTimeout' as const],
    };
    const logs = {
      code: 'lock-errors-in-log' as const,
      severity: 'warning' as const,
      title: '2 lock errors',
      message: '',
      fixes: ['openLog' as const, 'enableWal' as const, 'increaseTimeout' as const],
    };
    const choices = fixChoices([entry({ ...base(), journalMode: 'delete', findings: [notWal, logs] })]);
    assert.deepEqual(
      choices.map((c) => c.fix),
      ['enableWal', 'longTermFix', 'increaseTimeout', 'openLog'],
    );
    assert.ok(choices.every((c) => c.icon.length > 0));
    assert.deepEqual([...new Set(choices.map((c) => c.reason))], ['Journal mode is delete, not WAL', '2 lock errors']);
    assert.ok(!fixChoices([entry({ ...base(), findings: [logs] })]).some((c) => c.fix === 'enableWal'), 'already WAL');
  });
});

describe('diagnostic report (markdown)', () => {
  it('holds the runbook sections, the findings with fixes, and the escalation hints', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const md = formatReport(await inspect(db, { mode: 'full' }), { markdown: true });
    assert.match(md, /^## Trace DB Doctor report: PROBLEMS FOUND/);
    for (const h of ['Database', 'Files', 'Locks and processes', 'Findings', 'Escalation \\(RUNBOOK-002\\)']) assert.match(md, new RegExp(`^### ${h}`, 'm'));
    assert.match(md, /not-wal.*\n.*\n.*Fixes: Enable WAL/);
    assert.match(md, /PostgreSQL/);
  });
});
