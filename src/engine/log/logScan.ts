// Counts SQLite lock errors in the proxy's log: RUNBOOK-002's
// `grep "database is locked" packages/proxy/logs/error.log`, but by event, with times,
// a per-hour histogram and hard bounds. The proxy logs through pino: one JSON line per
// event in production, otherwise pino-pretty's header line followed by indented
// `err: { "message": …, "stack": …, "code": … }` lines that repeat the phrase three or
// four times, so counting lines would report one lock error as four (TRACEFORGE.md,
// "Its log"). An event is therefore a non-indented line plus the indented lines under it.
// The log can be gigabytes and the server polls it every few seconds, so a scan reads
// backwards from the end (the recent errors are the ones that matter) under a byte and
// a time budget, keeps only counters, and `LogTail` then reads nothing but what the
// proxy appended since the last poll.
import { constants as fsConstants, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import { withFileGate } from '../sqlite/fileGate';
import type { LogHourCount, LogSummary } from '../../shared/model';

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

type LogFormat = NonNullable<LogSummary['format']>;

const MiB = 1024 * 1024;
const DEFAULTS: Required<LogScanOptions> = { maxBytes: 64 * MiB, maxMs: 500, chunkSize: MiB, maxLineBytes: 4 * MiB };
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
// Dating pino-pretty's date-less times tolerates this much disorder: an mtime rounded
// down to whole (FAT: even) seconds, or two processes appending to one file, would
// otherwise make a time a few ms "later" than the next one look like a midnight.
const CLOCK_SLACK_MS = 60_000;
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
// Sticky regexes run at a line start on the latin1 view of a chunk. A level may come
// first (levelFirst) and may be coloured when pino-pretty was forced to colourise.
const ANSI = '(?:\\x1b\\[[\\d;]*m)?';
const LEVEL = '(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL|USERLVL)';
const PRETTY_HEAD_RE = new RegExp(`\\[[^\\]\\n]{4,48}\\] ${ANSI}${LEVEL}|${ANSI}${LEVEL}${ANSI} \\[`, 'y');
// pino-pretty's default translateTime and `HH:MM:ss Z`: [04:35:58.123], [04:35:58 UTC],
// and with SYS: the local zone as dateformat prints it (EST, GMT+0100, +0100).
const CLOCK_RE = new RegExp(
  `(?:${ANSI}[A-Z]{4,7}${ANSI} )?\\[(\\d{1,2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,3}))?(?: ?([A-Za-z]{1,5})?([+-]\\d{2}(?::?\\d{2})?)?)?\\]`,
  'y',
);
// The abbreviations dateformat can print (US zones; elsewhere it prints GMT±hhmm).
const ZONE_MIN: Record<string, number> = {
  Z: 0, UT: 0, UTC: 0, GMT: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360,
  PST: -480, PDT: -420, AKST: -540, AKDT: -480, HST: -600,
};

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
  if (zone !== undefined && zone.toUpperCase() !== 'Z') offsetMin = offsetMinutes(zone);
  return validTime(Date.UTC(Number(y), month - 1, day, hour, minute, second, ms) - offsetMin * 60_000);
}

/** `+01`, `+0100` or `-04:30` in minutes east of UTC. */
function offsetMinutes(zone: string): number {
  const digits = zone.slice(1).replace(':', '');
  return (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * (zone[0] === '-' ? -1 : 1);
}

function validTime(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms < MAX_TIME_MS ? ms : undefined;
}

/**
 * The UTC time of day (ms since UTC midnight) of a date-less pino-pretty time at `at`.
 * Kept in UTC so a file whose printed offset changes (daylight saving) still dates
 * consistently; an abbreviation we cannot convert gives no time rather than a wrong one.
 */
function clockAt(text: string, at: number): number | undefined {
  CLOCK_RE.lastIndex = at;
  const m = CLOCK_RE.exec(text);
  if (!m) return undefined;
  const [, h, mi, s, frac, abbr, offset] = m;
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMin = 0;
  if (abbr !== undefined) {
    const z = ZONE_MIN[abbr.toUpperCase()];
    if (z === undefined) return undefined;
    offsetMin = z;
  }
  if (offset !== undefined) offsetMin += offsetMinutes(offset);
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  const t = ((hour * 60 + minute - offsetMin) * 60 + second) * 1000 + ms;
  return ((t % DAY_MS) + DAY_MS) % DAY_MS;
}

/** The latest instant at or before `limit` whose UTC time of day is `clock`. */
function latestAtOrBefore(clock: number, limit: number): number {
  const t = Math.floor(limit / DAY_MS) * DAY_MS + clock;
  return t > limit ? t - DAY_MS : t;
}

/** The earliest instant at or after `limit` whose UTC time of day is `clock`. */
function earliestAtOrAfter(clock: number, limit: number): number {
  const t = Math.floor(limit / DAY_MS) * DAY_MS + clock;
  return t < limit ? t + DAY_MS : t;
}

function formatAt(text: string, at: number): LogFormat {
  if (text.charCodeAt(at) === 0x7b) return 'pino-json';
  PRETTY_HEAD_RE.lastIndex = at;
  return PRETTY_HEAD_RE.test(text) ? 'pino-pretty' : 'plain';
}

const isIndent = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x09;

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
  /** Events by the shape of their first line, for `LogSummary.format`. */
  readonly formats: Record<LogFormat, number> = { 'pino-json': 0, 'pino-pretty': 0, plain: 0 };

  add(time: number | undefined): void {
    this.lockErrors++;
    if (time === undefined) return;
    if (this.minTime === undefined || time < this.minTime) this.minTime = time;
    if (this.maxTime === undefined || time > this.maxTime) this.maxTime = time;
    const hour = Math.floor(time / HOUR_MS) * HOUR_MS;
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
    Object.assign(t.formats, this.formats);
    return t;
  }
}

/**
 * The last event of the lines read so far. It stays out of the tally because the
 * proxy may still be writing its indented lines: counting it only once the next
 * event begins is what keeps an error seen half-written from being counted twice.
 */
interface OpenEvent {
  lock: boolean;
  time?: number;
  /** 1-based line number of its first line, once lines are numbered. */
  line?: number;
  /** Its first line was never read (before the budget, or too long): it is not counted. */
  dropped: boolean;
}

/** The last line when it has no newline yet; the next read takes it again whole. */
interface PartialLine {
  indented: boolean;
  lock: boolean;
  time?: number;
}

/** A scan's result plus what `LogTail` needs to continue from it. */
interface Snapshot {
  path: string;
  exists: boolean;
  error?: string;
  /** Closed events: every lock error before `open`. */
  tally: Tally;
  open: OpenEvent | undefined;
  partial: PartialLine | undefined;
  /** Where a forward read resumes: the start of the unfinished last line, or the end. */
  resumeAt: number;
  /** The bytes from `resumeAt` up to the next newline belong to a line too long to count. */
  skipping: boolean;
  /** Bytes of the file seen so far; equal to its size unless a forward read stopped early. */
  readTo: number;
  size: number;
  ino: number;
  dev: number;
  mtimeMs: number;
  /** Epoch ms of the last date-less time read (complete lines only): where forward dating continues. */
  clock: number | undefined;
  /** Bytes from `floorPos` on were written after `floor` (epoch ms): appended events cannot be older. */
  floor: number;
  floorPos: number;
  scanned: number;
  complete: boolean;
}

interface Header {
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
function readHeader(text: string, buf: Buffer, start: number, end: number, dated: boolean): Header {
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
function lockLineStarts(text: string): number[] {
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

/**
 * Builds events from lines met last to first, as the backward scan meets them.
 * Indented lines wait until the line that heads them turns up; the first head met is
 * the file's last event and becomes `open`.
 */
class BackwardEvents {
  /** Newline bytes at or after the line being read. */
  newlinesAfter = 0;
  private openSet = false;
  private openFromEnd = 0;
  private earliestFromEnd: number | undefined;
  /** Indented lines read since the last head: their head is further back. */
  private orphans = false;
  private orphanLock = false;
  /** Time of the date-less event after the current one: times of day going up mean a midnight. */
  private next: number | undefined;
  private readonly hi: number;

  constructor(private readonly snap: Snapshot) {
    this.hi = snap.mtimeMs + CLOCK_SLACK_MS;
  }

  /** Reads the lines of `buf` (starting at a line start) from last to first. */
  lines(buf: Buffer): void {
    const text = buf.toString('latin1');
    const starts = lockLineStarts(text);
    let k = starts.length - 1;
    let lineEnd = buf.length;
    while (lineEnd > 0) {
      const terminated = buf[lineEnd - 1] === NL;
      const end = terminated ? lineEnd - 1 : lineEnd;
      const start = end > 0 ? text.lastIndexOf('\n', end - 1) + 1 : 0;
      while (k >= 0 && starts[k] > start) k--;
      this.line(text, buf, start, end, terminated, k >= 0 && starts[k] === start);
      lineEnd = start;
    }
  }

  private line(text: string, buf: Buffer, start: number, end: number, terminated: boolean, lock: boolean): void {
    const indented = isIndent(buf[start]);
    if (!terminated) {
      // Only the file's last line lacks a newline; it is met first.
      const p: PartialLine = { indented, lock };
      if (!indented) {
        const h = readHeader(text, buf, start, end, lock);
        const time = h.clock === undefined ? h.time : this.date(h.clock);
        if (time !== undefined) p.time = time;
      }
      this.snap.partial = p;
      return;
    }
    this.newlinesAfter++;
    if (indented) {
      this.orphans = true;
      this.orphanLock ||= lock;
      return;
    }
    const h = readHeader(text, buf, start, end, lock || this.orphanLock);
    this.snap.tally.formats[h.format]++;
    let time = h.time;
    if (h.clock !== undefined) {
      time = this.date(h.clock);
      this.snap.clock ??= time;
    }
    this.event(lock || this.orphanLock, time, false);
  }

  /** A line too long to read, of which only the first byte is known. */
  giant(firstByte: number | undefined, terminated: boolean): void {
    if (terminated) this.newlinesAfter++;
    if (isIndent(firstByte)) this.orphans = true;
    else this.event(false, undefined, true);
  }

  /** Ends the scan; `complete` when it reached the start of the file. */
  finish(complete: boolean): void {
    const { snap } = this;
    if (complete && this.orphans) this.event(this.orphanLock, undefined, false); // indented lines the file starts with
    if (!this.openSet) snap.open = complete ? undefined : { lock: false, dropped: true };
    if (!complete) return;
    snap.tally.newlines = this.newlinesAfter;
    if (this.earliestFromEnd !== undefined) snap.tally.firstLine = this.newlinesAfter - this.earliestFromEnd + 1;
    if (snap.open && !snap.open.dropped) snap.open.line = this.newlinesAfter - this.openFromEnd + 1;
  }

  private event(lock: boolean, time: number | undefined, dropped: boolean): void {
    this.orphans = false;
    this.orphanLock = false;
    if (!this.openSet) {
      this.openSet = true;
      this.openFromEnd = this.newlinesAfter;
      this.snap.open = time === undefined ? { lock, dropped } : { lock, time, dropped };
    } else if (lock && !dropped) {
      this.snap.tally.add(time);
      this.earliestFromEnd = this.newlinesAfter;
    }
  }

  /**
   * The last event is on the mtime's day, or the day before when its time of day is
   * later than the mtime's; walking back, each time of day that goes up crossed a midnight.
   */
  private date(clock: number): number {
    const t = latestAtOrBefore(clock, this.next === undefined ? this.hi : this.next + CLOCK_SLACK_MS);
    this.next = t;
    return t;
  }
}

/** Builds events from lines met first to last, for `LogTail`'s appended bytes. */
class ForwardEvents {
  private readonly hi: number;

  constructor(private readonly snap: Snapshot, private readonly numbered: boolean) {
    this.hi = snap.mtimeMs + CLOCK_SLACK_MS;
  }

  /** Reads the lines of `buf`, which starts at a line start at file offset `at` and ends with a newline. */
  lines(buf: Buffer, at: number): void {
    const text = buf.toString('latin1');
    const starts = lockLineStarts(text);
    let k = 0;
    for (let start = 0; start < buf.length; ) {
      const nl = text.indexOf('\n', start);
      while (k < starts.length && starts[k] < start) k++;
      this.line(text, buf, start, nl, at + start, k < starts.length && starts[k] === start);
      start = nl + 1;
    }
  }

  private line(text: string, buf: Buffer, start: number, end: number, pos: number, lock: boolean): void {
    const { snap } = this;
    const lineNo = this.numbered ? snap.tally.newlines + 1 : undefined;
    snap.tally.newlines++;
    if (isIndent(buf[start])) {
      if (snap.open) snap.open.lock ||= lock;
      else snap.open = { lock, line: lineNo, dropped: false }; // indented lines the file starts with
      return;
    }
    // Whether the lines under it will say it is not known yet; a JSON line has none.
    const h = readHeader(text, buf, start, end, lock || buf[start] !== 0x7b);
    snap.tally.formats[h.format]++;
    let time = h.time;
    if (h.clock !== undefined) time = snap.clock = this.date(h.clock, pos);
    this.close();
    snap.open = { lock, line: lineNo, dropped: false };
    if (time !== undefined) snap.open.time = time;
  }

  /** A line too long to read; its newline is counted when the read gets past it. */
  giant(firstByte: number | undefined): void {
    if (isIndent(firstByte)) return;
    this.close();
    this.snap.open = { lock: false, dropped: true };
  }

  /** The unfinished last line [0, len) of `buf`, at file offset `at`. */
  partial(buf: Buffer, len: number, at: number): PartialLine {
    const text = buf.toString('latin1', 0, len);
    const lock = LOCK_RE.test(text);
    const p: PartialLine = { indented: isIndent(buf[0]), lock };
    if (p.indented) return p;
    const h = readHeader(text, buf, 0, len, true);
    // Dated without moving `clock`: the line is read again once whole.
    const time = h.clock === undefined ? h.time : this.date(h.clock, at);
    if (time !== undefined) p.time = time;
    return p;
  }

  private close(): void {
    const { open, tally } = this.snap;
    if (!open || open.dropped || !open.lock) return;
    tally.add(open.time);
    if (this.numbered && tally.firstLine === undefined) tally.firstLine = open.line;
  }

  /**
   * A time of day going down from the previous one means the next day; and an event
   * cannot be later than the mtime, nor, when written after `floor`, older than it.
   */
  private date(clock: number, pos: number): number {
    const { snap, hi } = this;
    let t = snap.clock === undefined ? latestAtOrBefore(clock, hi) : earliestAtOrAfter(clock, snap.clock - CLOCK_SLACK_MS);
    const lo = snap.floor - CLOCK_SLACK_MS;
    if (pos >= snap.floorPos && lo <= hi && t < lo) t = earliestAtOrAfter(clock, lo);
    if (t > hi) t = latestAtOrBefore(clock, hi);
    return t;
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
  const events = new BackwardEvents(snap);
  const work = Buffer.allocUnsafe(Math.min(size, o.chunkSize) + Math.min(size, o.maxLineBytes));
  // The head of the line cut by the last read: its start lies in bytes not read yet.
  const carry = Buffer.allocUnsafe(Math.min(size, o.maxLineBytes));
  let carryLen = 0;
  let skipping = false;
  // While skipping: whether the long line has a newline, and the first byte of the
  // chunk read after (later in the file), which is the line's first byte when the
  // chunk before it ends a line.
  let giantTerminated = false;
  let skipHead: number | undefined;
  let pos = size;
  let endsWithNewline = true;
  let eofLineSeen = false;
  let shortRead = false;

  const region = (buf: Buffer, at: number): void => {
    if (at + buf.length === size) {
      eofLineSeen = true;
      if (!endsWithNewline) snap.resumeAt = at + buf.lastIndexOf(NL) + 1;
    }
    events.lines(buf);
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
      if (last < 0) {
        skipHead = work[0];
        if (pos === 0) events.giant(skipHead, giantTerminated);
        continue;
      }
      events.giant(last + 1 < len ? work[last + 1] : skipHead, giantTerminated);
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
    // Lines after the cut one come first: events are built last line first.
    if (headLen < used) region(buf.subarray(headLen), pos + headLen);
    if (headLen > o.maxLineBytes) {
      carryLen = 0;
      skipping = true;
      giantTerminated = nl >= 0;
      skipHead = work[0];
    } else {
      buf.copy(carry, 0, 0, headLen);
      carryLen = headLen;
    }
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
  events.finish(snap.complete);
}

/** Reads [snap.resumeAt, to) forwards and adds its events to the snapshot, for `LogTail`. */
async function scanForward(fh: fs.FileHandle, snap: Snapshot, to: number, o: Required<LogScanOptions>, t0: number): Promise<void> {
  const events = new ForwardEvents(snap, snap.complete);
  const span = to - snap.resumeAt;
  const work = Buffer.allocUnsafe(Math.min(span, o.chunkSize) + Math.min(span, o.maxLineBytes));
  let carryLen = 0;
  let pos = snap.resumeAt;
  let lineStart = pos;
  snap.partial = undefined;

  while (pos < to) {
    if (pos > snap.resumeAt && Date.now() - t0 >= o.maxMs) {
      // The rest waits for the next update; readTo < size makes sure it comes.
      snap.resumeAt = snap.skipping ? pos : lineStart;
      snap.readTo = pos;
      return;
    }
    const len = Math.min(o.chunkSize, to - pos);
    const got = await readFully(fh, work, carryLen, len, pos);
    const bufAt = pos - carryLen;
    pos += got;
    snap.scanned += got;
    if (got < len) to = pos;
    const buf = work.subarray(0, carryLen + got);
    let from = 0;
    if (snap.skipping) {
      const nl = buf.indexOf(NL);
      if (nl < 0) continue;
      snap.skipping = false;
      snap.tally.newlines++;
      from = nl + 1;
      lineStart = bufAt + from;
    }
    const last = buf.lastIndexOf(NL);
    if (last >= from) {
      events.lines(buf.subarray(from, last + 1), bufAt + from);
      lineStart = bufAt + last + 1;
      from = last + 1;
    }
    carryLen = buf.length - from;
    if (carryLen > o.maxLineBytes) {
      events.giant(buf[from]);
      carryLen = 0;
      snap.skipping = true;
    } else {
      work.copyWithin(0, from, buf.length);
    }
  }
  snap.readTo = to;
  snap.floor = snap.mtimeMs;
  snap.floorPos = to;
  if (snap.skipping) {
    snap.resumeAt = to;
  } else {
    snap.resumeAt = lineStart;
    if (carryLen > 0) snap.partial = events.partial(work, carryLen, lineStart);
  }
}

// ---------------------------------------------------------------- results

function emptySnapshot(path: string): Snapshot {
  return {
    path, exists: false, tally: new Tally(), open: undefined, partial: undefined, resumeAt: 0, skipping: false,
    readTo: 0, size: 0, ino: 0, dev: 0, mtimeMs: 0, clock: undefined, floor: 0, floorPos: 0, scanned: 0, complete: false,
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

/** The events not yet in the tally: the open one, as the unfinished last line leaves it. */
function unclosed(snap: Snapshot): OpenEvent[] {
  let open = snap.open && { ...snap.open };
  const p = snap.partial;
  const out: OpenEvent[] = [];
  if (p) {
    // An unfinished line's number is one past the newline count.
    const line = snap.complete ? snap.tally.newlines + 1 : undefined;
    if (p.indented && open) open.lock ||= p.lock;
    else {
      if (open) out.push(open);
      open = { lock: p.lock, line, dropped: false };
      if (!p.indented && p.time !== undefined) open.time = p.time;
    }
  }
  if (open) out.push(open);
  return out.filter((e) => e.lock && !e.dropped);
}

function formatOf(t: Tally): LogFormat | undefined {
  let best: LogFormat | undefined;
  for (const f of Object.keys(t.formats) as LogFormat[]) if (t.formats[f] > (best ? t.formats[best] : 0)) best = f;
  return best;
}

function toSummary(snap: Snapshot): LogSummary {
  const extra = unclosed(snap);
  const t = extra.length > 0 ? snap.tally.clone() : snap.tally;
  for (const e of extra) t.add(e.time);
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
  const firstLine = snap.tally.firstLine ?? extra[0]?.line;
  if (snap.complete && firstLine !== undefined) summary.firstLine = firstLine;
  const format = formatOf(t);
  if (format !== undefined) summary.format = format;
  if (snap.error !== undefined) summary.error = snap.error;
  return summary;
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

// Through the file gate (as a log path may be the database or its -shm): closing this
// descriptor would drop the doctor's own SQLite locks in the middle of a read.
function snapshotOf(path: string, o: Required<LogScanOptions>): Promise<Snapshot> {
  return withFileGate(path, () => snapshotOfUngated(path, o), { anyFileType: true });
}

async function snapshotOfUngated(path: string, o: Required<LogScanOptions>): Promise<Snapshot> {
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
  snap.mtimeMs = st.mtimeMs;
  snap.floor = st.mtimeMs;
  snap.floorPos = st.size;
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
    const polledAt = Date.now();
    try {
      st = await fs.stat(this.path);
    } catch (err) {
      const missing = errorSnapshot(this.path, err);
      if (!missing.exists && !prev.exists) return this.summary;
      return this.rescan(); // turns the error into a summary
    }
    const same = prev.exists && prev.error === undefined && st.isFile() && st.ino === prev.ino && st.dev === prev.dev;
    if (same && st.size === prev.readTo) {
      // Whatever is appended next is written after this poll: a proxy silent for a day
      // then logging a later time of day must not be dated to the day it went quiet.
      if (prev.readTo === prev.size) {
        prev.floor = Math.max(prev.floor, polledAt);
        prev.floorPos = prev.readTo;
      }
      return this.summary;
    }
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
  private append(prev: Snapshot): Promise<LogSummary | undefined> {
    return withFileGate(this.path, () => this.appendUngated(prev), { anyFileType: true });
  }

  private async appendUngated(prev: Snapshot): Promise<LogSummary | undefined> {
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
      const snap: Snapshot = { ...prev, tally: prev.tally.clone(), open: prev.open && { ...prev.open }, size: st.size, mtimeMs: st.mtimeMs };
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
