// The typed webview protocol: each request bound to its result, checked where it crosses
// the boundary. The webview's client (webview/shared/rpc.ts) and the host's dispatcher
// (src/host/webviewHost.ts) are wired to each other here, as the panel wires them.
import * as assert from 'node:assert/strict';
import { MAX_PAGE, type TraceDetail, type TracePage, type TraceRow } from '../../../src/shared/traceModel';
import { count, object, str } from '../../../src/shared/webviewChecks';
import {
  explorerProtocol,
  type ExplorerCommands,
  type ExplorerNotifications,
  type ExplorerRequests,
  type HostMessage,
} from '../../../src/shared/webviewProtocol';
import { WebviewProtocol, type HostMessageOf, type NoPayload, type ResultOf, type WebviewMessageOf } from '../../../src/shared/webviewRpc';
import { WebviewHost, type RequestHandlers } from '../../../src/host/webviewHost';
import { RpcClient } from '../../../webview/shared/rpc';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const row: TraceRow = {
  rowid: 1,
  id: 'id-1',
  timestamp: '2026-01-01T00:00:00.000Z',
  model: 'gpt-4o-mini',
  endpoint: '/v1/chat/completions',
  status: 'success',
  latencyMs: 10,
  tokens: 5,
  sessionId: null,
  stepIndex: null,
  preview: 'hi',
};
const page: TracePage = { rows: [row], hasMore: false, searchMode: 'none', durationMs: 1 };

/** The explorer's host end with handlers that record their params; `posted` is what it sent the webview. */
function explorerHost(overrides: Partial<RequestHandlers<ExplorerRequests>> = {}, send?: (m: HostMessage) => void) {
  const calls: [string, unknown][] = [];
  const posted: HostMessage[] = [];
  const warnings: string[] = [];
  const commands: [string, unknown][] = [];
  const host = new WebviewHost<ExplorerRequests, ExplorerCommands, ExplorerNotifications>({
    name: 'Trace explorer',
    protocol: explorerProtocol,
    requests: {
      query: async (p) => (calls.push(['query', p]), page),
      detail: async (p) => (calls.push(['detail', p]), null),
      field: async (p) => (calls.push(['field', p]), { text: 'x', length: 1, truncated: false }),
      count: async (p) => (calls.push(['count', p]), 42),
      choices: async (p) => (calls.push(['choices', p]), { models: [], endpoints: [], hasFts: true, hasSessions: false }),
      ...overrides,
    },
    commands: {
      ready: (p) => void commands.push(['ready', p]),
      copy: (p) => void commands.push(['copy', p]),
      openJson: (p) => void commands.push(['openJson', p]),
    },
    post: (m) => {
      posted.push(m);
      send?.(m);
    },
    warn: (m) => void warnings.push(m),
  });
  return { host, calls, posted, warnings, commands };
}

/** A webview client and a host end joined as the panel joins them (messages go through structuredClone, as postMessage does). */
function connected(overrides: Partial<RequestHandlers<ExplorerRequests>> = {}) {
  const win = new EventTarget();
  const deliver = (m: unknown) => void win.dispatchEvent(Object.assign(new Event('message'), { data: structuredClone(m) }));
  // What the host posts arrives at the webview's window.
  const side = explorerHost(overrides, deliver);
  const client = new RpcClient(explorerProtocol, (m) => void side.host.receive(structuredClone(m)));
  const notifications: unknown[] = [];
  client.listen(win, (n) => void notifications.push(n));
  return { ...side, client, notifications, deliver };
}

describe('webview protocol: the host refuses malformed requests, saying why', () => {
  it('an out-of-range limit is refused using MAX_PAGE; MAX_PAGE itself is accepted', async () => {
    const { host, calls, posted, warnings } = explorerHost();
    await host.receive({ type: 'query', id: 7, params: { limit: MAX_PAGE + 1 } });
    assert.equal(calls.length, 0, 'the server is never asked');
    assert.deepEqual(posted, [{ type: 'response', id: 7, ok: false, error: `Invalid 'query' request: params.limit must be an integer from 1 to ${MAX_PAGE}` }]);
    assert.match(warnings[0], /^Trace explorer: refused a message from the webview/);
    for (const limit of [0, 1.5, '10']) assert.equal(explorerProtocol.isWebviewMessage({ type: 'query', id: 1, params: { limit } }), false, String(limit));

    await host.receive({ type: 'query', id: 8, params: { limit: MAX_PAGE } });
    assert.deepEqual(calls, [['query', { limit: MAX_PAGE }]]);
    assert.deepEqual(posted[1], { type: 'response', id: 8, ok: true, result: page });
  });

  it('names the field that is wrong, however deep', async () => {
    const { host, calls, posted } = explorerHost();
    const refusal = async (m: unknown) => {
      posted.length = 0;
      await host.receive(m);
      assert.equal(posted.length, 1);
      const r = posted[0];
      assert.ok(r.type === 'response' && !r.ok);
      return r.error;
    };
    assert.equal(
      await refusal({ type: 'query', id: 1, params: { filter: { sql: 'DROP TABLE traces' } } }),
      `Invalid 'query' request: params.filter has an unknown field 'sql'`,
    );
    assert.equal(
      await refusal({ type: 'query', id: 1, params: { filter: { status: 'pending' } } }),
      `Invalid 'query' request: params.filter.status must be one of 'success', 'error'`,
    );
    assert.match((await refusal({ type: 'query', id: 1, params: { scanRows: 1e9 } }))!, /params\.scanRows is not accepted: it is a test-only knob/);
    assert.match(
      (await refusal({ type: 'query', id: 1, params: { after: { key: 'k', rowid: 1, window: { key: {}, rowid: 2 } } } }))!,
      /params\.after\.window\.key must be a number or a string/,
    );
    assert.equal(await refusal({ type: 'detail', id: 2, params: {} }), `Invalid 'detail' request: params.traceId must be a string of at most 256 characters`);
    assert.equal(
      await refusal({ type: 'field', id: 3, params: { traceId: 'a', field: 'password' } }),
      `Invalid 'field' request: params.field must be one of 'request', 'response', 'metadata', 'state_snapshot'`,
    );
    assert.equal(
      await refusal({ type: 'choices', id: 4, params: { all: true } }),
      `Invalid 'choices' request: params is not accepted: this request takes no params`,
    );
    assert.equal(
      await refusal({ type: 'count', id: 5, params: { filter: {} }, dbPath: '/etc/passwd' }),
      `Invalid 'count' request: the message has an unknown field 'dbPath'`,
    );
    assert.equal(await refusal({ type: 'exec', id: 6, cmd: 'rm -rf /' }), `Unknown request 'exec'`);
    assert.equal(calls.length, 0);
  });

  it('drops, and logs, what cannot be answered: no id, no type, a malformed command', async () => {
    const { host, posted, warnings, commands } = explorerHost();
    for (const m of [
      null,
      'ready',
      { type: 'query', params: {} },
      { type: 'query', id: -1, params: {} },
      { type: 'exec' },
      { type: 'copy', text: 5 },
      { type: 'toString', id: 1 },
    ])
      await host.receive(m);
    assert.deepEqual(posted, [{ type: 'response', id: 1, ok: false, error: `Unknown request 'toString'` }], 'only the numbered one is answered');
    assert.equal(commands.length, 0);
    assert.equal(warnings.length, 7);
    assert.match(warnings[5], /Trace explorer: dropped a message from the webview \(Invalid 'copy' message: message\.text must be a string/);
  });

  it('runs commands with their payload, and sends notifications flat', async () => {
    const { host, posted, commands } = explorerHost();
    await host.receive({ type: 'ready' });
    await host.receive({ type: 'openJson', traceId: 'abc' });
    assert.deepEqual(commands, [
      ['ready', { type: 'ready' }],
      ['openJson', { type: 'openJson', traceId: 'abc' }],
    ]);
    host.notify('didChangeData');
    host.notify('didChangeTraceCount', { traceCount: 3 });
    assert.deepEqual(posted, [{ type: 'didChangeData' }, { type: 'didChangeTraceCount', traceCount: 3 }]);
    assert.ok(posted.every((m) => explorerProtocol.isHostMessage(m)));
  });
});

describe("webview protocol: the client gets each request's own result type", () => {
  it('the result type of each method reaches the caller', async () => {
    const { client, calls } = connected();
    const p = await client.request('query', { sort: 'latency', limit: 5 });
    // Compile-time: the declared result, not unknown.
    const typed: TracePage = p;
    assert.equal(typed.rows[0].id, 'id-1');
    const choices = await client.request('choices');
    assert.equal(choices.hasSessions, false);
    assert.equal(await client.request('count', { filter: { model: 'gpt-4o-mini' } }), 42);
    assert.equal(await client.request('detail', { traceId: 'gone' }), null);
    assert.deepEqual(
      calls.map(([m]) => m),
      ['query', 'choices', 'count', 'detail'],
    );
    const types: [Equal<ResultOf<ExplorerRequests, 'detail'>, TraceDetail | null>, Equal<ResultOf<ExplorerRequests, 'count'>, number>] = [true, true];
    assert.deepEqual(types, [true, true]);
    // Never run: what the compiler refuses (tsc -p test/unit/webview checks these).
    const refused = async () => {
      // @ts-expect-error detail takes a trace id
      await client.request('detail');
      // @ts-expect-error limit is a number
      await client.request('query', { limit: 'all' });
      // @ts-expect-error no such request
      await client.request('exec');
      // @ts-expect-error detail may be null
      (await client.request('detail', { traceId: 'x' })).id.slice();
    };
    assert.equal(typeof refused, 'function');
  });

  it("a malformed request is rejected at the caller with the host's reason", async () => {
    const { client, calls } = connected();
    await assert.rejects(client.request('query', { limit: MAX_PAGE + 1 }), {
      message: `Invalid 'query' request: params.limit must be an integer from 1 to ${MAX_PAGE}`,
    });
    assert.equal(calls.length, 0);
  });

  it("a handler's error reaches the caller; answers settle their own request whatever the order", async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const { client } = connected({
      count: async () => {
        await slow;
        return 7;
      },
      detail: async () => {
        throw new Error('The database is locked; try again.');
      },
    });
    const first = client.request('count', { filter: {} });
    await assert.rejects(client.request('detail', { traceId: 'a' }), { message: 'The database is locked; try again.' });
    release();
    assert.equal(await first, 7);
  });

  it('the webview ignores malformed messages and answers to no request', async () => {
    const { client, deliver, notifications } = connected();
    const pending = client.request('count', { filter: {} });
    for (const m of [
      { type: 'response', id: 'x', ok: true },
      { type: 'response', id: 999, ok: true, result: 1 },
      { type: 'response', id: 1, ok: 'yes' },
      { type: 'eval', code: 'x' },
      { type: 'init', dbName: 'a', dbPath: 'b', traceCount: -1 },
      { type: 'didChangeTraceCount', traceCount: '3' },
    ]) {
      deliver(m);
    }
    assert.equal(await pending, 42, 'the real answer still settles it');
    deliver({ type: 'init', dbName: 'traces.db', dbPath: '/w/traces.db' });
    assert.deepEqual(notifications, [{ type: 'init', dbName: 'traces.db', dbPath: '/w/traces.db' }]);
  });
});

describe('webview protocol: a second webview declares its own map with the same machinery', () => {
  type MonitorRequests = { samples: { params: { since: number }; result: number[] } };
  type MonitorCommands = { pause: NoPayload };
  type MonitorNotifications = { didSample: { at: number } };
  const monitorProtocol = new WebviewProtocol<MonitorRequests, MonitorCommands, MonitorNotifications>({
    requests: { samples: object<{ since: number }>({ since: count }) },
    commands: { pause: {} },
    notifications: { didSample: { at: count } },
  });

  it('requests, commands and notifications go through the generic client and dispatcher', async () => {
    const win = new EventTarget();
    const paused: unknown[] = [];
    const host: WebviewHost<MonitorRequests, MonitorCommands, MonitorNotifications> = new WebviewHost({
      name: 'Lock monitor',
      protocol: monitorProtocol,
      requests: { samples: async ({ since }) => [since, since + 1] },
      commands: { pause: (p) => void paused.push(p) },
      post: (m: HostMessageOf<MonitorNotifications>) => void win.dispatchEvent(Object.assign(new Event('message'), { data: m })),
      warn: () => undefined,
    });
    const client = new RpcClient(monitorProtocol, (m: WebviewMessageOf<MonitorRequests, MonitorCommands>) => void host.receive(m));
    const seen: unknown[] = [];
    client.listen(win, (n) => void seen.push(n.at));
    const samples: number[] = await client.request('samples', { since: 3 });
    assert.deepEqual(samples, [3, 4]);
    await assert.rejects(client.request('samples', { since: -1 }), { message: `Invalid 'samples' request: params.since must be a non-negative integer` });
    client.command('pause');
    host.notify('didSample', { at: 9 });
    assert.deepEqual(paused, [{ type: 'pause' }]);
    assert.deepEqual(seen, [9]);
  });

  it('a name cannot be both a request and a command', () => {
    assert.throws(
      () =>
        new WebviewProtocol<{ go: { params: undefined; result: void } }, { go: NoPayload }, Record<never, never>>({
          requests: { go: () => undefined },
          commands: { go: {} },
          notifications: {},
        }),
      /'go' is declared both as a request and as a command/,
    );
    assert.equal(str(3)('abcd', 'params.x'), 'params.x must be a string of at most 3 characters');
  });
});
