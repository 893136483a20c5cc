// Counts SQLite lock errors in the proxy's error log: RUNBOOK-002's
// `grep "database is locked" packages/proxy/logs/error.log`, with times, a per-hour
// histogram and hard bounds. The log can be gigabytes and the server polls it
// every few seconds, so a scan reads backwards from the end (the recent errors are
// the ones that matter) under a byte and a time budget, keeps only counters, and
// `LogTail` then reads nothing but what the proxy appended since the last poll.
import { constants as fsConstants, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { LogHourCount, LogSummary } from './types';

export interface LogScanOptions {
  /** Stop after reading this many bytes (counted from the end of the file). Default 64 MiB. */
  maxBytes?: number;
  /** Stop after this many milliseconds (checked between chunks). Default 500. */
  maxMs?: number;
  /** @internal Bytes per read; tests make it tiny to put lines across chunk boundaries. */
  chunkSize?: number;
  /** @internal A line longer than this is skipped uncounted, so one huge line cannot hold memory. */
  maxLineBytes?: number;
}

export interface LineClass {
  lockError: boolean;
  /** Epoch ms, only for a lock error whose line carries a date and time. */
  time?: number;
}

const MiB = 1024 * 1024;
const DEFAULTS: Required<LogScanOptions> = { maxBytes: 64 * MiB, maxMs: 500, chunkSize: MiB, maxLineBytes: 4 * MiB };
const HOUR_MS = 3_600_000;
// Year 10000: beyond it toISOString() throws, and no real log line is dated there.
const MAX_TIME_MS = 253_402_300_800_000;
const NL = 0x0a;

// SQLITE_BUSY also matches the extended codes (SQLITE_BUSY_SNAPSHOT, _TIMEOUT, ...),
// SQLITE_LOCKED matches SQLITE_LOCKED_SHAREDCACHE: all are the same trouble.
const LOCK_PATTERN = 'database (?:table )?is locked|sqlite_(?:busy|locked)';
const LOCK_RE = new RegExp(LOCK_PATTERN, 'i');
const JSON_LINE_RE = /^\s*\{/;
// pino writes `level` then `time` first, so the first "time" key is the top-level one.
// A regex rather than JSON.parse: on a log full of errors, parsing every line would
// spend most of the time budget, and a truncated JSON line still yields its time.
const JSON_TIME_RE = /"time"\s*:\s*(?:(-?\d+(?:\.\d+)?)|"([^"]*)")/;
const ISO_RE =
  /(?<!\d)(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:\s?(Z|[+-]\d{2}(?::?\d{2})?)(?!\d))?/i;

/**
 * Whether one log line (without its newline) reports a SQLite lock error, and when.
 * A date-time without a zone is taken as UTC, as pino-pretty prints it by default;
 * a time without a date (`[14:03:12.123]`) gives no time.
 */
export function classifyLine(line: string): LineClass {
  if (!LOCK_RE.test(line)) return { lockError: false };
  const time = lineTime(line);
  return time === undefined ? { lockError: true } : { lockError: true, time };
}

function lineTime(line: string): number | undefined {
  if (JSON_LINE_RE.test(line)) {
    const m = JSON_TIME_RE.exec(line);
    if (m) {
      const t = m[1] !== undefined ? epochToMs(Number(m[1])) : parseDateTime(m[2]);
      if (t !== undefined) return t;
    }
  }
  const m = ISO_RE.exec(line);
  return m ? isoMatchToMs(m) : undefined;
}

function epochToMs(n: number): number | undefined {
  // pino's stdTimeFunctions.unixTime writes seconds; 1e11 ms would be 1973, 1e11 s year 5138.
  const ms = Math.abs(n) < 1e11 ? n * 1000 : n;
  return validTime(Math.round(ms));
}

function parseDateTime(s: string): number | undefined {
  const m = ISO_RE.exec(s);
  if (m) return isoMatchToMs(m);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : validTime(t);
}

function isoMatchToMs(m: RegExpExecArray): number | undefined {
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let offsetMin = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * (zone[0] === '-' ? -1 : 1);
  }
  return validTime(Date.UTC(Number(y), month - 1, day, hour, minute, second, ms) - offsetMin * 60_000);
}

function validTime(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms < MAX_TIME_MS ? ms : undefined;
}

// ---------------------------------------------------------------- counting

/** What has been counted so far: numbers and one small map, never lines. */
class Tally {
  lockErrors = 0;
  minTime: number | undefined;
  maxTime: number | undefined;
  readonly hours = new Map<number, number>();
  /** Newline bytes in the counted region; the line numbers once that region starts at byte 0. */
  newlines = 0;
  firstLine: number | undefined;

  add(c: LineClass): void {
    this.lockErrors++;
    if (c.time === undefined) return;
    if (this.minTime === undefined || c.time < this.minTime) this.minTime = c.time;
    if (this.maxTime === undefined || c.time > this.maxTime) this.maxTime = c.time;
    const hour = Math.floor(c.time / HOUR_MS) * HOUR_MS;
    this.hours.set(hour, (this.hours.get(hour) ?? 0) + 1);
  }

  clone(): Tally {
    const t = new Tally();
    t.lockErrors = this.lockErrors;
    t.minTime = this.minTime;
    t.maxTime = this.maxTime;
    for (const [h, n] of this.hours) t.hours.set(h, n);
    t.newlines = this.newlines;
    t.firstLine = this.firstLine;
    return t;
  }
}

/** A scan's result plus what `LogTail` needs to continue from it. */
interface Snapshot {
  path: string;
  exists: boolean;
  error?: string;
  tally: Tally;
  /**
   * The last line when it has no newline yet: counted in the summary, but kept apart
   * because the proxy may still be writing it and the next read takes it again whole.
   */
  pending: LineClass | undefined;
  /** Where a forward read resumes: the start of the unfinished last line, or the end. */
  resumeAt: number;
  /** The bytes from `resumeAt` up to the next newline belong to a line too long to count. */
  skipping: boolean;
  /** Bytes of the file seen so far; equal to its size unless a forward read stopped early. */
  readTo: number;
  size: number;
  ino: number;
  dev: number;
  scanned: number;
  complete: boolean;
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NL); i >= 0; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

/**
 * Calls `fn` for each lock-error line of `buf`, which starts at a line start. Matches
 * are found on a latin1 view (one char per byte, so offsets are byte offsets and no
 * chunk decoding is needed); only a matching line is decoded as UTF-8. Lines split on
 * the newline byte, which never occurs inside a multi-byte UTF-8 character.
 */
function forEachLockLine(buf: Buffer, fn: (c: LineClass, start: number, terminated: boolean) => void): void {
  const text = buf.toString('latin1');
  const re = new RegExp(LOCK_PATTERN, 'gi');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = text.lastIndexOf('\n', m.index) + 1;
    const nl = text.indexOf('\n', m.index);
    const end = nl < 0 ? text.length : nl;
    const c = classifyLine(buf.toString('utf8', start, end > start && buf[end - 1] === 0x0d ? end - 1 : end));
    if (c.lockError) fn(c, start, nl >= 0);
    if (nl < 0) break;
    re.lastIndex = nl + 1;
  }
}

function limits(opts: LogScanOptions | undefined): Required<LogScanOptions> {
  const o = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof LogScanOptions)[]) {
    const v = opts?.[k];
    if (typeof v === 'number' && !Number.isNaN(v)) o[k] = Math.max(k === 'maxBytes' || k === 'maxMs' ? 0 : 1, v);
  }
  // Both become buffers allocated up front: an absurd value must not become an absurd allocation.
  o.chunkSize = Math.floor(Math.min(o.chunkSize, 64 * MiB));
  o.maxLineBytes = Math.floor(Math.min(o.maxLineBytes, 64 * MiB));
  return o;
}

async function readFully(fh: fs.FileHandle, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Reads backwards from the end under the budgets; see LogSummary for the meaning of each field. */
async function scanBackward(fh: fs.FileHandle, snap: Snapshot, o: Required<LogScanOptions>, t0: number): Promise<void> {
  const { size } = snap;
  const tally = snap.tally;
  const work = Buffer.allocUnsafe(Math.min(size, o.chunkSize) + Math.min(size, o.maxLineBytes));
  // The head of the line cut by the last read: its start lies in bytes not read yet.
  const carry = Buffer.allocUnsafe(Math.min(size, o.maxLineBytes));
  let carryLen = 0;
  let skipping = false;
  let pos = size;
  let endsWithNewline = true;
  let eofLineSeen = false;
  // Newlines at or after the start of the earliest lock line found so far: its line
  // number is known only at the end, once the total is.
  let newlinesAfter = 0;
  let earliestFromEnd: number | undefined;
  let shortRead = false;

  const region = (buf: Buffer, at: number): void => {
    const total = countNewlines(buf);
    if (at + buf.length === size) {
      eofLineSeen = true;
      if (!endsWithNewline) snap.resumeAt = at + buf.lastIndexOf(NL) + 1;
    }
    let first = true;
    forEachLockLine(buf, (c, start, terminated) => {
      if (!terminated) {
        snap.pending = c;
        return;
      }
      tally.add(c);
      if (first) {
        earliestFromEnd = newlinesAfter + total - countNewlines(buf.subarray(0, start));
        first = false;
      }
    });
    newlinesAfter += total;
  };

  while (pos > 0) {
    const left = o.maxBytes - snap.scanned;
    if (left <= 0 || (snap.scanned > 0 && Date.now() - t0 >= o.maxMs)) break;
    const len = Math.min(o.chunkSize, pos, left);
    if ((await readFully(fh, work, 0, len, pos - len)) < len) {
      shortRead = true; // truncated while we read: what is left of it is not the file we sized
      break;
    }
    if (pos === size) endsWithNewline = work[len - 1] === NL;
    pos -= len;
    snap.scanned += len;
    let used: number;
    if (skipping) {
      const last = work.subarray(0, len).lastIndexOf(NL);
      if (last < 0) continue;
      skipping = false;
      used = last + 1;
    } else {
      carry.copy(work, len, 0, carryLen);
      used = len + carryLen;
    }
    const buf = work.subarray(0, used);
    if (pos === 0) {
      carryLen = 0;
      region(buf, 0);
      break;
    }
    const nl = buf.indexOf(NL);
    const headLen = nl < 0 ? used : nl + 1;
    if (headLen > o.maxLineBytes) {
      newlinesAfter += countNewlines(buf.subarray(0, headLen));
      carryLen = 0;
      skipping = true;
    } else {
      buf.copy(carry, 0, 0, headLen);
      carryLen = headLen;
    }
    if (headLen < used) region(buf.subarray(headLen), pos + headLen);
  }

  snap.complete = pos === 0 && !shortRead;
  if (!snap.complete && carryLen > 0) {
    // Stopped at the budget: the cut line is whole if the byte before it ends a line.
    const one = Buffer.alloc(1);
    if ((await readFully(fh, one, 0, 1, pos - 1)) === 1 && one[0] === NL) region(carry.subarray(0, carryLen), pos);
  }
  if (!endsWithNewline && !eofLineSeen) {
    // The unfinished last line was too long or began before the budget: it stays uncounted.
    snap.resumeAt = size;
    snap.skipping = true;
  }
  if (snap.complete) {
    tally.newlines = newlinesAfter;
    tally.firstLine = earliestFromEnd === undefined ? undefined : newlinesAfter - earliestFromEnd + 1;
  }
}

/** Reads [snap.resumeAt, to) forwards and adds its lines to the snapshot, for `LogTail`. */
async function scanForward(fh: fs.FileHandle, snap: Snapshot, to: number, o: Required<LogScanOptions>, t0: number): Promise<void> {
  const tally = snap.tally;
  const numbered = snap.complete;
  const span = to - snap.resumeAt;
  const work = Buffer.allocUnsafe(Math.min(span, o.chunkSize) + Math.min(span, o.maxLineBytes));
  let carryLen = 0;
  let pos = snap.resumeAt;
  let lineStart = pos;
  snap.pending = undefined;

  while (pos < to) {
    if (pos > snap.resumeAt && Date.now() - t0 >= o.maxMs) {
      // The rest waits for the next update; readTo < size makes sure it comes.
      snap.resumeAt = snap.skipping ? pos : lineStart;
      snap.readTo = pos;
      return;
    }
    const len = Math.min(o.chunkSize, to - pos);
    const got = await readFully(fh, work, carryLen, len, pos);
    const readAt = pos;
    pos += got;
    snap.scanned += got;
    if (got < len) to = pos;
    const buf = work.subarray(0, carryLen + got);
    let from = 0;
    if (snap.skipping) {
      const nl = buf.indexOf(NL);
      if (nl < 0) continue;
      snap.skipping = false;
      tally.newlines++;
      from = nl + 1;
      lineStart = readAt + from;
    }
    const last = buf.lastIndexOf(NL);
    if (last >= from) {
      const lines = buf.subarray(from, last + 1);
      let first = true;
      forEachLockLine(lines, (c, start) => {
        tally.add(c);
        if (first && numbered && tally.firstLine === undefined) tally.firstLine = tally.newlines + countNewlines(lines.subarray(0, start)) + 1;
        first = false;
      });
      tally.newlines += countNewlines(lines);
      lineStart = pos - (buf.length - (last + 1));
      from = last + 1;
    }
    carryLen = buf.length - from;
    if (carryLen > o.maxLineBytes) {
      carryLen = 0;
      snap.skipping = true;
    } else {
      work.copyWithin(0, from, buf.length);
    }
  }
  snap.readTo = to;
  if (snap.skipping) {
    snap.resumeAt = to;
  } else {
    snap.resumeAt = lineStart;
    if (carryLen > 0) {
      const c = classifyLine(work.toString('utf8', 0, work[carryLen - 1] === 0x0d ? carryLen - 1 : carryLen));
      if (c.lockError) snap.pending = c;
    }
  }
}

// ---------------------------------------------------------------- results

function emptySnapshot(path: string): Snapshot {
  return {
    path, exists: false, tally: new Tally(), pending: undefined, resumeAt: 0, skipping: false, readTo: 0,
    size: 0, ino: 0, dev: 0, scanned: 0, complete: false,
  };
}

function errorSnapshot(path: string, err: unknown): Snapshot {
  const snap = emptySnapshot(path);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    // No log is the normal state of a proxy that never failed: nothing to report.
    snap.complete = true;
    return snap;
  }
  snap.exists = true;
  if (code === 'EACCES' || code === 'EPERM') snap.error = `Permission denied: cannot read ${path}. Check the file's owner and mode.`;
  else if (code === 'EISDIR') snap.error = `${path} is a directory, not a log file. Set tracedb.logPath to the proxy's error.log.`;
  else snap.error = `Cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`;
  return snap;
}

function toSummary(snap: Snapshot): LogSummary {
  const pending = snap.pending?.lockError ? snap.pending : undefined;
  const t = pending ? snap.tally.clone() : snap.tally;
  if (pending) t.add(pending);
  const perHour: LogHourCount[] = [...t.hours]
    .sort((a, b) => a[0] - b[0])
    .map(([h, count]) => ({ hour: new Date(h).toISOString(), count }));
  const summary: LogSummary = {
    path: snap.path,
    exists: snap.exists,
    lockErrors: t.lockErrors,
    perHour,
    totalBytes: snap.size,
    scannedBytes: snap.scanned,
    complete: snap.complete,
  };
  if (t.minTime !== undefined) summary.first = new Date(t.minTime).toISOString();
  if (t.maxTime !== undefined) summary.last = new Date(t.maxTime).toISOString();
  // An unfinished last line has no newline: its number is one past the newline count.
  const firstLine = snap.tally.firstLine ?? (pending ? snap.tally.newlines + 1 : undefined);
  if (snap.complete && firstLine !== undefined) summary.firstLine = firstLine;
  if (snap.error !== undefined) summary.error = snap.error;
  return summary;
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

async function snapshotOf(path: string, o: Required<LogScanOptions>): Promise<Snapshot> {
  const t0 = Date.now();
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(path, OPEN_FLAGS);
  } catch (err) {
    return errorSnapshot(path, err);
  }
  try {
    return await scanOpen(fh, path, o, t0);
  } catch (err) {
    return errorSnapshot(path, err);
  } finally {
    await fh.close().catch(() => undefined); // a read-only handle has nothing to flush
  }
}

async function scanOpen(fh: fs.FileHandle, path: string, o: Required<LogScanOptions>, t0: number): Promise<Snapshot> {
  const st = await fh.stat();
  const snap = emptySnapshot(path);
  snap.exists = true;
  if (st.isDirectory()) return errorSnapshot(path, { code: 'EISDIR' });
  if (!st.isFile()) {
    snap.error = `${path} is not a regular file (a pipe, socket or device); point tracedb.logPath at the proxy's error.log.`;
    return snap;
  }
  snap.size = st.size;
  snap.ino = st.ino;
  snap.dev = st.dev;
  snap.resumeAt = st.size;
  snap.readTo = st.size;
  await scanBackward(fh, snap, o, t0);
  return snap;
}

/**
 * Scans the log from its end for SQLite lock errors, within `maxBytes` and `maxMs`.
 * Never throws: a missing log gives `exists: false`, an unreadable one `error`.
 */
export async function scanLog(path: string, opts?: LogScanOptions): Promise<LogSummary> {
  return toSummary(await snapshotOf(path, limits(opts)));
}

/**
 * The log as the server polls it: the first update scans, later ones read only the
 * bytes appended since, a shrunk or replaced file (rotation) is scanned afresh, and an
 * unchanged one costs a single stat and returns the previous summary object.
 */
export class LogTail {
  private readonly opts: Required<LogScanOptions>;
  private snap: Snapshot | undefined;
  private summary: LogSummary | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string, opts?: LogScanOptions) {
    this.opts = limits(opts);
  }

  /** Overlapping calls run one after the other, so state is never read half-updated. */
  update(): Promise<LogSummary> {
    const next = this.queue.then(() => this.step());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async step(): Promise<LogSummary> {
    const prev = this.snap;
    if (!prev || !this.summary) return this.rescan();
    let st: Stats;
    try {
      st = await fs.stat(this.path);
    } catch (err) {
      const missing = errorSnapshot(this.path, err);
      if (!missing.exists && !prev.exists) return this.summary;
      return this.rescan(); // turns the error into a summary
    }
    const same = prev.exists && prev.error === undefined && st.isFile() && st.ino === prev.ino && st.dev === prev.dev;
    if (same && st.size === prev.readTo) return this.summary;
    if (same && st.size > prev.readTo && st.size - prev.resumeAt <= this.opts.maxBytes) {
      const s = await this.append(prev);
      if (s) return s;
    }
    return this.rescan();
  }

  private async rescan(): Promise<LogSummary> {
    this.snap = await snapshotOf(this.path, this.opts);
    this.summary = toSummary(this.snap);
    return this.summary;
  }

  /** Reads the appended bytes; undefined when the file turned out to be another one. */
  private async append(prev: Snapshot): Promise<LogSummary | undefined> {
    const t0 = Date.now();
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.path, OPEN_FLAGS);
    } catch {
      return undefined;
    }
    try {
      const st = await fh.stat();
      if (st.ino !== prev.ino || st.dev !== prev.dev || st.size < prev.readTo) return undefined;
      // Work on a copy so a failed read leaves the last good state in place.
      const snap: Snapshot = { ...prev, tally: prev.tally.clone(), size: st.size };
      await scanForward(fh, snap, st.size, this.opts, t0);
      this.snap = snap;
      this.summary = toSummary(snap);
      return this.summary;
    } catch {
      return undefined;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}
