// What the trace explorer asks for and gets back, declared here, in the protocol's room:
// the doctor server's requests and the webview's messages carry these shapes, so the
// wire format changes only when this file does (docs/DESIGN.md, "One typed protocol").

export type TraceSort = 'time' | 'latency' | 'tokens';
export type SortDir = 'desc' | 'asc';

export interface TraceFilter {
  model?: string;
  status?: 'success' | 'error';
  endpoint?: string;
  /** ISO 8601 bounds on `timestamp` (inclusive from, exclusive to). */
  from?: string;
  to?: string;
  sessionId?: string;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  minTokens?: number;
  maxTokens?: number;
  /** FTS5 query syntax when traces_fts exists; plain substring otherwise. */
  search?: string;
}

/** The last row of the previous page: where the next one starts. */
export interface TraceCursor {
  key: string | number | null;
  rowid: number;
  /**
   * Not in WAL mode, latency and token orders sort within a window of SCAN_ROWS traces,
   * newest first: where that window starts (exclusive, in time order), so later pages sort
   * the same traces while new ones arrive. `fresh`: this cursor opens the next window.
   */
  window?: TraceWindow;
}

export interface TraceWindow {
  key: string | number;
  rowid: number;
  fresh?: boolean;
}

export interface TracePageParams {
  filter?: TraceFilter;
  sort?: TraceSort;
  dir?: SortDir;
  after?: TraceCursor;
  /** Newer than this row in the current order's opposite direction: the live "what's new" query. */
  before?: TraceCursor;
  limit?: number;
  /** Rows a bounded scan (a LIKE search; anything unindexed when not in WAL mode) reads per request; tests make it small. Capped at the default. */
  scanRows?: number;
}

export interface TraceRow {
  rowid: number;
  id: string;
  timestamp: string;
  model: string | null;
  endpoint: string;
  status: string | null;
  latencyMs: number | null;
  tokens: number | null;
  sessionId: string | null;
  stepIndex: number | null;
  /** First words of the last message of the request, for the list. */
  preview: string;
}

export interface TracePage {
  rows: TraceRow[];
  hasMore: boolean;
  cursor?: TraceCursor;
  searchMode: 'none' | 'fts' | 'like';
  /** Said to the user: e.g. that a LIKE search only looked at part of the table. */
  notice?: string;
  durationMs: number;
}

export interface TraceField {
  text: string | null;
  /** Full length in characters; > text.length when truncated. */
  length: number;
  truncated: boolean;
}

export interface TraceDetail {
  rowid: number;
  id: string;
  timestamp: string;
  endpoint: string;
  request: TraceField;
  response: TraceField;
  metadata: TraceField;
  stateSnapshot?: TraceField;
  sessionId: string | null;
  stepIndex: number | null;
  stepId: string | null;
  parentTraceId: string | null;
  createdAt: number | null;
  /** Neighbours in the session, and children, by id. */
  prevStep?: string;
  nextStep?: string;
  children: string[];
}

export const MAX_PAGE = 200;
/** Fields above this are sent truncated; "show all" fetches the whole one. */
export const FIELD_PREVIEW_CHARS = 256 * 1024;

export type TraceFieldName = 'request' | 'response' | 'metadata' | 'state_snapshot';
