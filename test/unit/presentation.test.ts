// The status bar, tree and fix picker models, from real reports of real databases.
import * as assert from 'node:assert/strict';
import { inspect, Inspector } from '../../src/engine/inspect';
import { fixChoices, statusModel, treeModel, type DbEntry, type TreeNodeModel } from '../../src/client/presentation';
import { formatReport } from '../../src/engine/reportText';
import { startActor, traceWorkspace } from './helpers';

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
    assert.ok(fixes.includes('longTermFix'), 'the runbook\'s long-term fix in code is offered too');
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
    assert.equal(lock.description, `PID ${actor.pid}`);
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
