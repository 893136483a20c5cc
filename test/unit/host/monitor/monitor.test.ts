// The lock monitor in the host's models: the one-line summary (tree, status tooltip), the
// tree's Locks section with its link to the Lock Monitor, and which databases are sampled
// fast while a panel shows them.
import * as assert from 'node:assert/strict';
import type { DbEntry } from '../../../../src/host/health/dbEntry';
import { statusModel } from '../../../../src/host/health/statusModel';
import { treeModel, type TreeNodeModel } from '../../../../src/host/health/treeModel';
import { MonitorInterest } from '../../../../src/host/monitor/monitorInterest';
import { monitorLine, monitorNotable } from '../../../../src/host/monitor/summaryText';
import type { HealthReport } from '../../../../src/shared/model';
import type { MonitorSummary } from '../../../../src/shared/monitorModel';
import { healthyReport } from '../../../support/reports';

const quiet: MonitorSummary = {
  sampleHz: 1,
  windowMs: 300_000,
  from: 0,
  to: 300_000,
  proxyBlockedMs: 0,
  writeLockUtilisation: 0.004,
  commitsPerSecond: 0.4,
  lockErrors: 0,
  proxyLongestWriteMs: 20,
  blockers: [],
  stats: [],
  wal: true,
};

const blocked: MonitorSummary = {
  ...quiet,
  proxyBlockedMs: 6200,
  writeLockUtilisation: 0.12,
  commitsPerSecond: 38.2,
  lockErrors: 2,
  blockers: [
    { pid: 21898, holder: 'python3 notebook.py', blockedMs: 6000, holds: 1, locks: ['RESERVED'] },
    { pid: 4242, holder: 'sqlite3 shell', blockedMs: 200, holds: 1, locks: ['SHARED'] },
  ],
};

function report(monitor?: MonitorSummary): HealthReport {
  return healthyReport('/r/.ai-tests/traces.db', monitor ? { monitor } : {});
}

function entry(r: HealthReport): DbEntry {
  return { folderUri: 'file:///r', folderName: 'r', dbPath: r.path, report: r };
}

function flatten(nodes: TreeNodeModel[]): TreeNodeModel[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children ?? [])]);
}

describe('lock monitor: the one-line summary', () => {
  it('names the window, the rate, who blocked the proxy and for how long, the write lock and commits', () => {
    assert.equal(
      monitorLine(blocked),
      'Last 5 min @1 Hz: proxy blocked 6.2 s by PID 21898 (python3 notebook.py) and 1 other; write lock 12% busy; 38 commits/s; 2 lock errors',
    );
    assert.equal(monitorLine({ ...quiet, sampleHz: 10, windowMs: 45_000 }), 'Last 45 s @10 Hz: proxy never blocked; write lock 0% busy; 0.4 commits/s');
    assert.match(monitorLine({ ...quiet, proxyLongestWriteMs: 2500 }), /proxy held the write lock up to 2\.5 s$/);
  });

  it('is news only when something happened', () => {
    assert.equal(monitorNotable(quiet), false);
    assert.equal(monitorNotable(blocked), true);
    assert.equal(monitorNotable({ ...quiet, writeLockUtilisation: 0.6 }), true);
    assert.equal(monitorNotable({ ...quiet, proxyLongestWriteMs: 1500 }), true);
  });
});

describe('lock monitor: the health tree and the status bar', () => {
  it('the Locks section links to the Lock Monitor and ends with the last minutes', () => {
    const sections = treeModel(entry(report(blocked)));
    const locks = sections.find((n) => n.label === 'Locks now')!;
    assert.match(locks.contextValue!, /\blockMonitor\b/);
    const last = locks.children!.at(-1)!;
    assert.equal(last.label, 'Last 5 min @1 Hz');
    assert.equal(last.description, 'proxy blocked 6.2 s by PID 21898 (python3 notebook.py) and 1 other; write lock 12% busy; 38 commits/s; 2 lock errors');
    assert.equal(last.icon, 'pulse');
    assert.match(last.contextValue!, /\blockMonitor\b/);
    assert.match(last.tooltip!, /holds shorter than 1000 ms can be missed/);
    const all = flatten(sections);
    assert.equal(new Set(all.map((n) => n.id)).size, all.length, 'ids stay unique');
  });

  it('without monitor figures the section is as it was, and keeps its ids', () => {
    const without = treeModel(entry(report()));
    const locks = without.find((n) => n.label === 'Locks now')!;
    assert.deepEqual(
      locks.children!.map((n) => n.label),
      ['No lock held'],
    );
    assert.deepEqual(
      treeModel(entry(report(blocked))).map((n) => n.id),
      without.map((n) => n.id),
    );
  });

  it('the status tooltip carries the summary only when there is something to say', () => {
    assert.ok(!statusModel([entry(report(quiet))]).tooltip.some((l) => l.includes('$(pulse)')));
    const line = statusModel([entry(report(blocked))]).tooltip.find((l) => l.includes('$(pulse)'));
    assert.ok(line);
    // Escaped: a process name cannot become markdown or a command link.
    assert.match(line, /^- \$\(pulse\) Last 5 min @1 Hz\\: proxy blocked 6\\\.2 s by PID 21898 \\\(python3 notebook\\\.py\\\)/);
  });
});

describe('lock monitor: fast sampling while a panel shows a database', () => {
  it('tells the server on each change, and again after a restart', () => {
    const sent: string[][] = [];
    const interest = new MonitorInterest((dbPaths) => void sent.push(dbPaths));
    interest.resend();
    assert.deepEqual(sent, [], 'nothing shown, nothing to tell');
    interest.set('/b/traces.db', true);
    interest.set('/a/traces.db', true);
    interest.set('/a/traces.db', true);
    assert.deepEqual(sent, [['/b/traces.db'], ['/a/traces.db', '/b/traces.db']]);
    interest.set('/b/traces.db', false);
    interest.resend();
    assert.deepEqual(sent.slice(2), [['/a/traces.db'], ['/a/traces.db']]);
    interest.set('/a/traces.db', false);
    assert.deepEqual(sent.at(-1), []);
  });
});
