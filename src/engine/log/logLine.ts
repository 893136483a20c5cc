// What one line of the proxy's log is: whether it reports a SQLite lock error, which
// of pino's shapes it has, and whether it heads an event or continues one (pino-pretty
// indents an error's `err: { … }` lines under its header line).
import { ANSI, clockAt, lineTime } from './logTime';
import type { LogSummary } from '../../shared/model';

export interface LineClass {
  lockError: boolean;
  /** Epoch ms, only for a lock error whose line carries a date and time. */
  time?: number;
}

export type LogFormat = NonNullable<LogSummary['format']>;

export const NL = 0x0a;

// SQLITE_BUSY also matches the extended codes (SQLITE_BUSY_SNAPSHOT, _TIMEOUT, ...),
// SQLITE_LOCKED matches SQLITE_LOCKED_SHAREDCACHE: all are the same trouble.
const LOCK_PATTERN = 'database (?:table )?is locked|sqlite_(?:busy|locked)';
export const LOCK_RE = new RegExp(LOCK_PATTERN, 'i');
// Sticky regexes run at a line start on the latin1 view of a chunk. A level may come
// first (levelFirst) and may be coloured when pino-pretty was forced to colourise.
const LEVEL = '(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL|USERLVL)';
const PRETTY_HEAD_RE = new RegExp(`\\[[^\\]\\n]{4,48}\\] ${ANSI}${LEVEL}|${ANSI}${LEVEL}${ANSI} \\[`, 'y');

/**
 * Whether one log line (without its newline) reports a SQLite lock error, and when.
 * A date-time without a zone is taken as UTC, as pino-pretty prints it by default;
 * a time without a date (`[14:03:12.123]`) gives no time here: only a scan, which
 * knows the file's mtime and the lines around it, can date it.
 */
export function classifyLine(line: string): LineClass {
  if (!LOCK_RE.test(line)) return { lockError: false };
  const time = lineTime(line);
  return time === undefined ? { lockError: true } : { lockError: true, time };
}

function formatAt(text: string, at: number): LogFormat {
  if (text.charCodeAt(at) === 0x7b) return 'pino-json';
  PRETTY_HEAD_RE.lastIndex = at;
  return PRETTY_HEAD_RE.test(text) ? 'pino-pretty' : 'plain';
}

export const isIndent = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x09;

export interface Header {
  format: LogFormat;
  /** UTC time of day of a date-less pino-pretty time. */
  clock?: number;
  /** Epoch ms of a dated lock error. */
  time?: number;
}

/**
 * `text` is the latin1 view of `buf` (one char per byte); [start, end) excludes the
 * newline. `dated`: whether the event may be a lock error, so its date-time is needed.
 */
export function readHeader(text: string, buf: Buffer, start: number, end: number, dated: boolean): Header {
  const format = formatAt(text, start);
  const clock = format === 'pino-json' ? undefined : clockAt(text, start);
  if (clock !== undefined) return { format, clock };
  // Only a lock error needs its date: decoding every line would spend the time budget.
  const time = dated ? lineTime(buf.toString('utf8', start, end > start && buf[end - 1] === 0x0d ? end - 1 : end)) : undefined;
  return time === undefined ? { format } : { format, time };
}

/**
 * Starts of the lines of `text` that match, ascending. Matching runs once over the
 * latin1 view of a whole chunk (offsets are byte offsets, no decoding); the pattern
 * is ASCII, and the newline byte never occurs inside a multi-byte UTF-8 character.
 */
export function lockLineStarts(text: string): number[] {
  const re = new RegExp(LOCK_PATTERN, 'gi');
  const starts: number[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    starts.push(text.lastIndexOf('\n', m.index) + 1);
    const nl = text.indexOf('\n', m.index);
    if (nl < 0) break;
    re.lastIndex = nl + 1;
  }
  return starts;
}
