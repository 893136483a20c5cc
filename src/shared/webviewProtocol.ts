// Every message between the trace explorer webview and the extension host, declared
// once with a type guard (GitLens' pattern). The host validates everything the webview
// sends before use: the webview renders hostile data and is treated as untrusted.
import type { FilterChoices, TraceDetail, TraceField, TraceFieldName, TraceFilter, TracePage, TracePageParams } from './protocol';

export type { FilterChoices, TraceDetail, TraceField, TraceFieldName, TraceFilter, TracePage, TracePageParams };

// ------------------------------------------------------------ webview → host

/** The webview is up; the host sends nothing before this. */
export interface ReadyMessage {
  type: 'ready';
}
/** Requests answered by a ResponseMessage with the same id. */
export interface QueryRequest {
  type: 'query';
  id: number;
  params: TracePageParams;
}
export interface DetailRequest {
  type: 'detail';
  id: number;
  traceId: string;
}
export interface FieldRequest {
  type: 'field';
  id: number;
  traceId: string;
  field: TraceFieldName;
}
export interface CountRequest {
  type: 'count';
  id: number;
  filter: TraceFilter;
}
export interface ChoicesRequest {
  type: 'choices';
  id: number;
}
/** Commands (no answer). */
export interface OpenJsonCommand {
  type: 'openJson';
  traceId: string;
}
export interface CopyCommand {
  type: 'copy';
  text: string;
}

export type WebviewRequest = QueryRequest | DetailRequest | FieldRequest | CountRequest | ChoicesRequest;
/** A request before `request()` numbers it. */
export type UnsentRequest = WithoutId<WebviewRequest>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
export type WebviewMessage = ReadyMessage | WebviewRequest | OpenJsonCommand | CopyCommand;

// ------------------------------------------------------------ host → webview

export interface InitMessage {
  type: 'init';
  dbName: string;
  /** Kept in the webview's state so the serializer can reopen the panel on the same DB. */
  dbPath: string;
  /**
   * The health report's instant trace count (max(rowid)), so the list can say "≈ N"
   * without a COUNT(*) of its own; absent when no report has one yet.
   */
  traceCount?: number;
}
export interface ResponseMessage {
  type: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  /** For the user: what went wrong and what to do next. */
  error?: string;
}
/**
 * Someone committed. The list only offers to load what is new (a pill): it never
 * queries on its own, because on a rollback-journal DB every read holds SHARED and
 * makes the proxy wait (issue 11), and rows inserted under the pointer open the wrong
 * trace (issue 10).
 */
export interface DidChangeDataMessage {
  type: 'didChangeData';
  /** The health report's latest instant count, when it has one. */
  traceCount?: number;
}
/** The health report's instant count moved (the poll read max(rowid) again). */
export interface DidChangeTraceCountMessage {
  type: 'didChangeTraceCount';
  traceCount: number;
}

export type HostMessage = InitMessage | ResponseMessage | DidChangeDataMessage | DidChangeTraceCountMessage;

// ------------------------------------------------------------ guards

const FIELDS: readonly TraceFieldName[] = ['request', 'response', 'metadata', 'state_snapshot'];
const SORTS = ['time', 'latency', 'tokens'];
const DIRS = ['desc', 'asc'];
const MAX_TEXT = 4096;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isStr = (v: unknown, max = MAX_TEXT): v is string => typeof v === 'string' && v.length <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optStr = (v: unknown, max = MAX_TEXT) => v === undefined || isStr(v, max);
const optNum = (v: unknown) => v === undefined || isNum(v);
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export function isTraceFilter(v: unknown): v is TraceFilter {
  if (!isObj(v)) return false;
  const allowed = new Set(['model', 'status', 'endpoint', 'from', 'to', 'sessionId', 'minLatencyMs', 'maxLatencyMs', 'minTokens', 'maxTokens', 'search']);
  if (Object.keys(v).some((k) => !allowed.has(k))) return false;
  return (
    optStr(v.model, 256) &&
    (v.status === undefined || v.status === 'success' || v.status === 'error') &&
    optStr(v.endpoint, 1024) &&
    optStr(v.from, 64) &&
    optStr(v.to, 64) &&
    optStr(v.sessionId, 256) &&
    optNum(v.minLatencyMs) &&
    optNum(v.maxLatencyMs) &&
    optNum(v.minTokens) &&
    optNum(v.maxTokens) &&
    optStr(v.search, 1024)
  );
}

function isCursor(v: unknown): boolean {
  return isObj(v) && Number.isSafeInteger(v.rowid) && (v.key === null || isNum(v.key) || isStr(v.key, 256));
}

export function isPageParams(v: unknown): v is TracePageParams {
  if (!isObj(v)) return false;
  return (
    (v.filter === undefined || isTraceFilter(v.filter)) &&
    (v.sort === undefined || SORTS.includes(v.sort as string)) &&
    (v.dir === undefined || DIRS.includes(v.dir as string)) &&
    (v.after === undefined || isCursor(v.after)) &&
    (v.before === undefined || isCursor(v.before)) &&
    (v.limit === undefined || (Number.isInteger(v.limit) && (v.limit as number) > 0 && (v.limit as number) <= 200)) &&
    // A test-only knob of the engine: the webview never sets how much the engine scans.
    v.scanRows === undefined
  );
}

/** Validates an untrusted message from the webview; anything else is dropped. */
export function isWebviewMessage(m: unknown): m is WebviewMessage {
  if (!isObj(m)) return false;
  switch (m.type) {
    case 'ready':
      return true;
    case 'query':
      return isId(m.id) && isPageParams(m.params);
    case 'detail':
      return isId(m.id) && isStr(m.traceId, 256);
    case 'field':
      return isId(m.id) && isStr(m.traceId, 256) && FIELDS.includes(m.field as TraceFieldName);
    case 'count':
      return isId(m.id) && isTraceFilter(m.filter);
    case 'choices':
      return isId(m.id);
    case 'openJson':
      return isStr(m.traceId, 256);
    case 'copy':
      return typeof m.text === 'string' && m.text.length <= 64 * 1024 * 1024;
    default:
      return false;
  }
}

const optCount = (v: unknown) => v === undefined || isId(v);

export function isHostMessage(m: unknown): m is HostMessage {
  if (!isObj(m)) return false;
  switch (m.type) {
    case 'init':
      return isStr(m.dbName) && isStr(m.dbPath) && optCount(m.traceCount);
    case 'response':
      return isId(m.id) && typeof m.ok === 'boolean';
    case 'didChangeData':
      return optCount(m.traceCount);
    case 'didChangeTraceCount':
      return isId(m.traceCount);
    default:
      return false;
  }
}
