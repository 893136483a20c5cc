// Every message between the trace explorer webview and the extension host, declared once
// (webviewRpc.ts): each request bound to its result, and a check for each message. The
// host checks everything the webview sends before use: the webview renders hostile data
// and is treated as untrusted. The types are the protocol's (traceModel.ts, protocol.ts),
// never the engine's.
import type { FilterChoices } from './protocol';
import {
  MAX_PAGE,
  type SortDir,
  type TraceCursor,
  type TraceDetail,
  type TraceField,
  type TraceFieldName,
  type TraceFilter,
  type TracePage,
  type TracePageParams,
  type TraceSort,
  type TraceWindow,
} from './traceModel';
import { absent, anyOf, bool, count, finite, intIn, nothing, object, oneOf, optional, safeInt, str, type Check } from './webviewChecks';
import { WebviewProtocol, type HostMessageOf, type NoPayload, type ParamsOf, type RequestMessage, type WebviewMessageOf } from './webviewRpc';

export type { FilterChoices, TraceDetail, TraceField, TraceFieldName, TraceFilter, TracePage, TracePageParams };

// ------------------------------------------------------------ webview → host

/** Requests, each answered by a ResponseMessage carrying its result. */
export type ExplorerRequests = {
  /** A page of the list. */
  query: { params: TracePageParams; result: TracePage };
  /** One trace; null when it no longer exists. */
  detail: { params: { traceId: string }; result: TraceDetail | null };
  /** One field in full ("show all" on a truncated one). */
  field: { params: { traceId: string; field: TraceFieldName }; result: TraceField | null };
  /** COUNT(*) with these filters ("count exactly"). */
  count: { params: { filter: TraceFilter }; result: number };
  /** The filters' options: models, endpoints, and whether search and sessions work. */
  choices: { params: undefined; result: FilterChoices };
};

/** Commands (no answer). */
export type ExplorerCommands = {
  /** The webview is up; the host sends nothing before this. */
  ready: NoPayload;
  openJson: { traceId: string };
  copy: { text: string };
};

// ------------------------------------------------------------ host → webview

export type ExplorerNotifications = {
  init: {
    dbName: string;
    /** Kept in the webview's state so the serializer can reopen the panel on the same DB. */
    dbPath: string;
    /**
     * The health report's instant trace count (max(rowid)), so the list can say "≈ N"
     * without a COUNT(*) of its own; absent when no report has one yet.
     */
    traceCount?: number;
  };
  /**
   * Someone committed. The list only offers to load what is new (a pill): it never
   * queries on its own, because on a rollback-journal DB every read holds SHARED and
   * makes the proxy wait (issue 11), and rows inserted under the pointer open the wrong
   * trace (issue 10). `traceCount`: the health report's latest instant count, when it has one.
   */
  didChangeData: { traceCount?: number };
  /** The health report's instant count moved (the poll read max(rowid) again). */
  didChangeTraceCount: { traceCount: number };
};

export type WebviewMessage = WebviewMessageOf<ExplorerRequests, ExplorerCommands>;
export type WebviewRequest = RequestMessage<ExplorerRequests>;
export type HostMessage = HostMessageOf<ExplorerNotifications>;

// ------------------------------------------------------------ checks

const SORTS: readonly TraceSort[] = ['time', 'latency', 'tokens'];
const DIRS: readonly SortDir[] = ['desc', 'asc'];
const FIELDS: readonly TraceFieldName[] = ['request', 'response', 'metadata', 'state_snapshot'];
const traceId = str(256);

export const traceFilter = object<TraceFilter>({
  model: optional(str(256)),
  status: optional(oneOf(['success', 'error'])),
  endpoint: optional(str(1024)),
  from: optional(str(64)),
  to: optional(str(64)),
  sessionId: optional(str(256)),
  minLatencyMs: optional(finite),
  maxLatencyMs: optional(finite),
  minTokens: optional(finite),
  maxTokens: optional(finite),
  search: optional(str(1024)),
});

/** The cursors are the server's own, handed back: the webview only ever returns what it was given. */
const traceCursor = object<TraceCursor>({
  key: anyOf('null, a number or a string of at most 256 characters', nothing, finite, str(256)),
  rowid: safeInt,
  window: optional(
    object<TraceWindow>({ key: anyOf('a number or a string of at most 256 characters', finite, str(256)), rowid: safeInt, fresh: optional(bool) }),
  ),
});

export const pageParams = object<TracePageParams>({
  filter: optional(traceFilter),
  sort: optional(oneOf(SORTS)),
  dir: optional(oneOf(DIRS)),
  after: optional(traceCursor),
  before: optional(traceCursor),
  limit: optional(intIn(1, MAX_PAGE)),
  scanRows: absent('it is a test-only knob of the engine; the webview never sets how much the engine scans'),
});

type Params<M extends keyof ExplorerRequests> = ParamsOf<ExplorerRequests, M>;
const noParams: Check<undefined> = absent('this request takes no params');

export const explorerProtocol = new WebviewProtocol<ExplorerRequests, ExplorerCommands, ExplorerNotifications>({
  requests: {
    query: pageParams,
    detail: object<Params<'detail'>>({ traceId }),
    field: object<Params<'field'>>({ traceId, field: oneOf(FIELDS) }),
    count: object<Params<'count'>>({ filter: traceFilter }),
    choices: noParams,
  },
  commands: {
    ready: {},
    openJson: { traceId },
    // The whole trace as JSON can be large; the clipboard takes it.
    copy: { text: str(64 * 1024 * 1024) },
  },
  notifications: {
    init: { dbName: str(), dbPath: str(), traceCount: optional(count) },
    didChangeData: { traceCount: optional(count) },
    didChangeTraceCount: { traceCount: count },
  },
});

/** On the host: a request or command the explorer may send. */
export const isWebviewMessage = (m: unknown): m is WebviewMessage => explorerProtocol.isWebviewMessage(m);
/** In the webview: an answer or notification from the host. */
export const isHostMessage = (m: unknown): m is HostMessage => explorerProtocol.isHostMessage(m);
