// The Lock Monitor webview: what the host accepts from it and what it accepts from the
// host, the timeline's lanes, bars and markers computed from a snapshot, and the page
// (figures, table, lock errors) driven in linkedom through the real host end.
import * as assert from 'node:assert/strict';
import { parseHTML } from 'linkedom';
import type { MonitorSnapshot } from '../../../src/shared/monitorModel';
import {
  DEFAULT_MONITOR_WINDOW_MS,
  isMonitorHostMessage,
  isMonitorWebviewMessage,
  monitorProtocol,
  type MonitorCommands,
  type MonitorHostMessage,
  type MonitorNotifications,
  type MonitorRequests,
  type MonitorWebviewMessage,
} from '../../../src/shared/monitorProtocol';
import { WebviewHost } from '../../../src/host/webviewHost';
import { startMonitor } from '../../../webview/monitor/app';
import type { TimelineChart } from '../../../webview/monitor/chart';
import { figureRows, samplingText } from '../../../webview/monitor/figures';
import { duration } from '../../../webview/monitor/format';
import { readSaved } from '../../../webview/monitor/savedState';
import { statsRows } from '../../../webview/monitor/statsTable';
import { band, barsOf, chartSummary, commitData, lanesOf, lockVar, markersOf, timelineOf, type Timeline } from '../../../webview/monitor/timeline';

const T0 = Date.parse('2026-11-28T04:30:00.000Z');
const HOSTILE = '<img src=x onerror="alert(1)">\u202eexe';

function snapshot(): MonitorSnapshot {
  return {
    summary: {
      sampleHz: 10,
      windowMs: 300_000,
      from: T0,
      to: T0 + 300_000,
      proxyBlockedMs: 6200,
      writeLockUtilisation: 0.12,
      commitsPerSecond: 38,
      lockErrors: 1,
      proxyLongestWriteMs: 400,
      blockers: [{ pid: 21898, holder: 'python3 notebook.py', blockedMs: 6200, holds: 1, locks: ['SHARED', 'RESERVED'] }],
      stats: [
        { holder: 'python3 notebook.py', pid: 21898, lock: 'RESERVED', count: 1, p50Ms: 6190, p95Ms: 6190, p99Ms: 6190, maxMs: 6190, totalMs: 6190 },
        { holder: 'TraceForge proxy', pid: 100, lock: 'RESERVED', count: 2, p50Ms: 100, p95Ms: 400, p99Ms: 400, maxMs: 400, totalMs: 500 },
        { holder: HOSTILE, pid: 555, lock: 'SHARED', count: 1, p50Ms: 100_000, p95Ms: 100_000, p99Ms: 100_000, maxMs: 100_000, totalMs: 100_000 },
      ],
      wal: false,
    },
    holds: [
      { pid: 21898, holder: 'python3 notebook.py', kind: 'script', lock: 'RESERVED', start: T0 + 10, end: T0 + 6200, blocksProxy: true },
      // Began before the window: clipped to its start.
      { pid: 21898, holder: 'python3 notebook.py', kind: 'script', lock: 'SHARED', start: T0 - 5000, end: T0 + 6200, blocksProxy: true },
      { pid: 100, holder: 'TraceForge proxy', kind: 'proxy', lock: 'RESERVED', start: T0 + 1000, end: T0 + 1100, blocksProxy: false },
      { pid: 100, holder: 'TraceForge proxy', kind: 'proxy', lock: 'RESERVED', start: T0 + 9000, end: T0 + 9400, blocksProxy: false },
      // Still held: runs to the end of the window.
      { pid: 555, holder: HOSTILE, kind: 'other', lock: 'SHARED', start: T0 + 200_000, blocksProxy: false },
    ],
    errors: [
      {
        at: T0 + 6000,
        text: 'SqliteError: database is locked',
        blamed: [{ pid: 21898, holder: 'python3 notebook.py', lock: 'RESERVED', heldMs: 5990 }],
      },
    ],
    commits: [
      [T0 + 2000, 40],
      [T0 - 1000, 5],
      [T0 + 1000, 30],
    ],
    note: 'Sampled 10 times a second (every 100 ms) from /proc/locks: a lock held for less than 100 ms can be missed.',
  };
}

describe('lock monitor: messages are validated both ways', () => {
  it('the host accepts the declared messages and nothing else', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'snapshot', id: 1, params: { windowMs: DEFAULT_MONITOR_WINDOW_MS } },
      { type: 'snapshot', id: 2, params: { windowMs: 60_000 } },
    ])
      assert.equal(isMonitorWebviewMessage(m), true, JSON.stringify(m));
    for (const m of [
      null,
      'ready',
      { type: 'snapshot', params: { windowMs: 60_000 } },
      { type: 'snapshot', id: 1 },
      { type: 'snapshot', id: 1, params: { windowMs: 10 } },
      { type: 'snapshot', id: 1, params: { windowMs: 24 * 3600_000 } },
      { type: 'snapshot', id: 1, params: { windowMs: '60000' } },
      { type: 'snapshot', id: 1, params: { windowMs: 60_000, dbPath: '/etc/passwd' } },
      { type: 'snapshot', id: 1, params: { windowMs: 60_000 }, dbPath: '/etc/passwd' },
      { type: 'ready', extra: 1 },
      { type: 'exec', id: 1, cmd: 'kill -9 1' },
    ])
      assert.equal(isMonitorWebviewMessage(m), false, JSON.stringify(m));
  });

  it('the webview accepts only the host’s shapes', () => {
    assert.equal(isMonitorHostMessage({ type: 'init', dbName: 'traces.db', dbPath: '/w/traces.db' }), true);
    assert.equal(isMonitorHostMessage({ type: 'response', id: 3, ok: true, result: snapshot() }), true);
    assert.equal(isMonitorHostMessage({ type: 'init', dbName: 'traces.db' }), false);
    assert.equal(isMonitorHostMessage({ type: 'init', dbName: 5, dbPath: '/w' }), false);
    assert.equal(isMonitorHostMessage({ type: 'eval', code: 'x' }), false);
    assert.equal(isMonitorHostMessage({ type: 'response', id: 'x', ok: true }), false);
  });

  it('the host refuses an out-of-range window, saying why, and never asks the server', async () => {
    const asked: unknown[] = [];
    const posted: MonitorHostMessage[] = [];
    const host = new WebviewHost<MonitorRequests, MonitorCommands, MonitorNotifications>({
      name: 'Lock Monitor',
      protocol: monitorProtocol,
      requests: { snapshot: async (p) => (asked.push(p), snapshot()) },
      commands: { ready: () => undefined },
      post: (m) => void posted.push(m),
      warn: () => undefined,
    });
    await host.receive({ type: 'snapshot', id: 4, params: { windowMs: 5 } });
    assert.deepEqual(posted, [
      { type: 'response', id: 4, ok: false, error: `Invalid 'snapshot' request: params.windowMs must be an integer from 60000 to 3600000` },
    ]);
    assert.deepEqual(asked, []);
    await host.receive({ type: 'snapshot', id: 5, params: { windowMs: 60_000 } });
    assert.deepEqual(asked, [{ windowMs: 60_000 }]);
  });
});

describe('lock monitor: lanes, bars and markers from a snapshot', () => {
  it('one lane per process: the proxy on top, then by first hold; labelled with name and PID, control characters visible', () => {
    const lanes = lanesOf(snapshot());
    assert.deepEqual(
      lanes.map((l) => [l.pid, l.y, l.blocker]),
      [
        [100, 2, false],
        [21898, 1, true],
        [555, 0, false],
      ],
    );
    assert.equal(lanes[1].label, 'python3 notebook.py · PID 21898');
    assert.match(lanes[2].label, /⟨U\+202E⟩exe · PID 555$/);
    assert.ok(lanes[2].axisLabel.length <= 34 && lanes[2].axisLabel.endsWith('…'), lanes[2].axisLabel);
  });

  it('bars sit in their lane, clipped to the window, weakest lock first; a hold still held runs to the end', () => {
    const s = snapshot();
    const lanes = lanesOf(s);
    const bars = barsOf(s, lanes);
    assert.equal(bars.length, 5);
    assert.deepEqual(
      bars.map((b) => b.lock),
      ['SHARED', 'SHARED', 'RESERVED', 'RESERVED', 'RESERVED'],
    );
    const clipped = bars.find((b) => b.pid === 21898 && b.lock === 'SHARED')!;
    assert.equal(clipped.from, T0, 'a hold that began before the window starts at its edge');
    assert.equal(clipped.blocksProxy, true);
    const open = bars.find((b) => b.pid === 555)!;
    assert.equal(open.open, true);
    assert.equal(open.to, s.summary.to);
    for (const b of bars) {
      const y = lanes.find((l) => l.pid === b.pid)!.y;
      assert.ok(b.lo >= y - 0.5 && b.hi <= y + 0.5 && b.lo < b.hi, `${b.pid} ${b.lock} stays in its lane`);
    }
    // Readers below writers, so a transaction's SHARED and RESERVED both show.
    assert.ok(band('SHARED')[1] <= band('RESERVED')[0]);
    assert.equal(lockVar('WAL_WRITE'), '--lock-wal-write');
  });

  it('a lock error is a marker naming who was blamed, and says so when nobody was', () => {
    const s = snapshot();
    const [m] = markersOf(s);
    assert.equal(m.at, T0 + 6000);
    assert.match(m.label, /^\d\d:\d\d:\d\d locked — PID 21898 python3 notebook\.py held RESERVED 6\.0 s$/);
    assert.match(m.short, /^\d\d:\d\d:\d\d locked$/);
    assert.deepEqual(m.pids, [21898]);
    s.errors.push({ at: T0 + 400_000, text: 'outside', blamed: [] }, { at: T0 + 7000, text: 'x', blamed: [] });
    const all = markersOf(s);
    assert.equal(all.length, 2, 'only the window’s errors');
    assert.match(all[1].label, /locked — no other process held a blocking lock \(as sampled\)$/);
  });

  it('commits per second span the window in uPlot’s seconds, in time order, nothing from before it', () => {
    const [xs, ys] = commitData(snapshot());
    assert.deepEqual(xs, [T0 / 1000, (T0 + 1000) / 1000, (T0 + 2000) / 1000, (T0 + 300_000) / 1000]);
    assert.deepEqual(ys, [null, 30, 40, null]);
  });

  it('the chart’s aria-label says what it shows', () => {
    const s = snapshot();
    const text = chartSummary(s, timelineOf(s));
    assert.match(text, /3 processes held locks/);
    assert.match(text, /python3 notebook\.py · PID 21898 \(blocked the proxy\)/);
    assert.match(text, /1 lock error, the last: .* locked — PID 21898/);
    assert.match(text, /38\.0 commits per second/);
  });

  it('figures and the table state the sampling rate and what it can miss', () => {
    const s = snapshot();
    assert.equal(samplingText(10), 'sampled at 10 Hz: holds shorter than 100 ms can be missed');
    assert.equal(samplingText(1), 'sampled at 1 Hz: holds shorter than 1000 ms can be missed');
    const figures = Object.fromEntries(figureRows(s));
    assert.match(figures['Window'], /sampled at 10 Hz: holds shorter than 100 ms can be missed/);
    assert.equal(figures['Proxy blocked'], '6.2 s (2%) by PID 21898 python3 notebook.py 6.2 s');
    assert.equal(figures['Write lock busy'], '12%');
    assert.equal(figures['Commits'], '38 per second');
    assert.equal(figures['Journal mode'], 'rollback journal');
    assert.deepEqual(statsRows(s)[1], ['TraceForge proxy', '100', 'RESERVED', '100 ms', '400 ms', '400 ms', '400 ms', '2', '500 ms']);
    assert.equal(duration(100_000), '100 s');
    assert.equal(duration(150_000), '2.5 min');
  });

  it('saved state is read defensively', () => {
    assert.deepEqual(readSaved(undefined), { panelDbPath: undefined, windowMs: DEFAULT_MONITOR_WINDOW_MS });
    assert.deepEqual(readSaved({ panelDbPath: '/w/traces.db', windowMs: 60_000 }), { panelDbPath: '/w/traces.db', windowMs: 60_000 });
    assert.equal(readSaved({ windowMs: 1 }).windowMs, DEFAULT_MONITOR_WINDOW_MS);
  });
});

// ---------------------------------------------------------------- the page, driven in linkedom

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('lock monitor: the page', () => {
  function page(answer: () => Promise<MonitorSnapshot> = async () => snapshot()) {
    const { document } = parseHTML('<!doctype html><html><head><title></title></head><body></body></html>');
    const win = new EventTarget();
    const deliver = (m: unknown) => void win.dispatchEvent(Object.assign(new Event('message'), { data: structuredClone(m) }));
    const updates: Timeline[] = [];
    const commands: string[] = [];
    const asked: unknown[] = [];
    const host = new WebviewHost<MonitorRequests, MonitorCommands, MonitorNotifications>({
      name: 'Lock Monitor',
      protocol: monitorProtocol,
      requests: { snapshot: async (p) => (asked.push(p), answer()) },
      commands: { ready: () => void commands.push('ready') },
      post: deliver,
      warn: () => undefined,
    });
    let state: unknown;
    const chart = (): TimelineChart => ({ update: (t) => void updates.push(t), resize: () => undefined, destroy: () => undefined });
    const app = startMonitor({
      doc: document,
      win,
      api: {
        postMessage: (m: MonitorWebviewMessage) => void host.receive(structuredClone(m)),
        getState: () => state,
        setState: (s) => void (state = s),
      },
      chart,
      poll: false,
    });
    return { document, app, updates, commands, asked, host, state: () => state };
  }

  it('shows the snapshot: lanes to the chart, an aria-label, a real table, the lock errors with their blame, all as text', async () => {
    const p = page();
    assert.deepEqual(p.commands, ['ready']);
    p.host.notify('init', { dbName: 'traces.db', dbPath: '/w/.ai-tests/traces.db' });
    await settle();
    assert.equal(p.document.title, 'Lock Monitor · traces.db');
    assert.deepEqual(p.state(), { panelDbPath: '/w/.ai-tests/traces.db', windowMs: DEFAULT_MONITOR_WINDOW_MS });

    await p.app.refresh();
    assert.deepEqual(p.asked, [{ windowMs: DEFAULT_MONITOR_WINDOW_MS }]);
    assert.deepEqual(
      p.updates.at(-1)!.lanes.map((l) => l.pid),
      [100, 21898, 555],
    );
    const chart = p.document.querySelector('.chart')!;
    assert.equal(chart.getAttribute('role'), 'img');
    assert.match(chart.getAttribute('aria-label')!, /PID 21898/);

    const table = p.document.querySelector('table.stats')!;
    assert.match(table.querySelector('caption')!.textContent, /sampled at 10 Hz: holds shorter than 100 ms can be missed/);
    assert.deepEqual(
      [...table.querySelectorAll('thead th')].map((th) => th.getAttribute('scope')),
      Array(9).fill('col'),
    );
    const rows = [...table.querySelectorAll('tbody tr')];
    assert.equal(rows.length, 3);
    assert.equal(rows[0].querySelector('th')!.getAttribute('scope'), 'row');
    assert.equal(rows[0].className, 'blocker', 'the blocker’s row stands out');

    const errors = [...p.document.querySelectorAll('ol.errors li')];
    assert.equal(errors.length, 1);
    assert.match(errors[0].textContent, /locked — PID 21898 python3 notebook\.py held RESERVED 6\.0 s/);
    assert.match(p.document.querySelector('.note')!.textContent, /can be missed/);

    // A process's name is text: no element came from it.
    assert.equal(p.document.querySelectorAll('main img').length, 0);
    assert.match(table.textContent, /<img src=x onerror="alert\(1\)">⟨U\+202E⟩exe/);
    p.app.stop();
  });

  it('says what went wrong, and clears it once an answer comes', async () => {
    let fail = true;
    const p = page(async () => {
      if (fail) throw new Error('The Trace DB Doctor server is not running.');
      return snapshot();
    });
    await p.app.refresh();
    assert.equal(p.document.querySelector('.status')!.textContent, 'The Trace DB Doctor server is not running.');
    fail = false;
    await p.app.refresh();
    assert.equal(p.document.querySelector('.status')!.textContent, '');
    assert.ok(p.app.last);
    p.app.stop();
  });

  it('an empty window says so', async () => {
    const empty = snapshot();
    empty.holds = [];
    empty.errors = [];
    empty.summary = { ...empty.summary, stats: [], blockers: [], proxyBlockedMs: 0, lockErrors: 0 };
    const p = page(async () => empty);
    await p.app.refresh();
    assert.match(p.document.querySelector('table.stats tbody')!.textContent, /No process held a lock/);
    assert.match(p.document.querySelector('.errors-box')!.textContent, /No "database is locked"/);
    assert.match(p.document.querySelector('.chart')!.getAttribute('aria-label')!, /No process held a lock/);
    p.app.stop();
  });
});
