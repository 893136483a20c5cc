// Lock errors counted by event, not by line. The proxy logs through pino: one JSON line
// per event in production, otherwise pino-pretty's header line followed by indented
// `err: { "message": …, "stack": …, "code": … }` lines that repeat the phrase three or
// four times, so counting lines would report one lock error as four (TRACEFORGE.md,
// "Its log"). An event is therefore a non-indented line plus the indented lines under
// it. Only counters are kept, never lines.
import { isIndent, LOCK_RE, lockLineStarts, NL, readHeader, type LogFormat } from './logLine';
import { CLOCK_SLACK_MS, earliestAtOrAfter, latestAtOrBefore } from './logTime';

const HOUR_MS = 3_600_000;

/** What has been counted so far: numbers and one small map, never lines. */
export class Tally {
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
export interface OpenEvent {
  lock: boolean;
  time?: number;
  /** 1-based line number of its first line, once lines are numbered. */
  line?: number;
  /** Its first line was never read (before the budget, or too long): it is not counted. */
  dropped: boolean;
  /** Its first line, kept only while `EventState.found` collects events. */
  text?: string;
  /** Already put into `EventState.found`. */
  reported?: boolean;
}

/** A lock-error event as a forward read meets it: when the log dates it, and its first line. */
export interface LogLockEvent {
  time?: number;
  text: string;
}

/** Bytes of an event's first line kept for `LogLockEvent.text`. */
const EVENT_TEXT_BYTES = 400;

/** The last line when it has no newline yet; the next read takes it again whole. */
export interface PartialLine {
  indented: boolean;
  lock: boolean;
  time?: number;
}

/** What the events of a scan's snapshot (logScan.ts) are built into, and the dates they go by. */
export interface EventState {
  /** Closed events: every lock error before `open`. */
  tally: Tally;
  open: OpenEvent | undefined;
  partial: PartialLine | undefined;
  mtimeMs: number;
  /** Epoch ms of the last date-less time read (complete lines only): where forward dating continues. */
  clock: number | undefined;
  /** Bytes from `floorPos` on were written after `floor` (epoch ms): appended events cannot be older. */
  floor: number;
  floorPos: number;
  /**
   * When set, a forward read adds each lock-error event here once, as soon as one of its
   * lines says so (LogTail's listener; the lock monitor links them to lock holders).
   */
  found?: LogLockEvent[];
}

/**
 * Builds events from lines met last to first, as the backward scan meets them.
 * Indented lines wait until the line that heads them turns up; the first head met is
 * the file's last event and becomes `open`.
 */
export class BackwardEvents {
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

  constructor(private readonly snap: EventState) {
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
export class ForwardEvents {
  private readonly hi: number;

  constructor(
    private readonly snap: EventState,
    private readonly numbered: boolean,
  ) {
    this.hi = snap.mtimeMs + CLOCK_SLACK_MS;
  }

  /** Reads the lines of `buf`, which starts at a line start at file offset `at` and ends with a newline. */
  lines(buf: Buffer, at: number): void {
    const text = buf.toString('latin1');
    const starts = lockLineStarts(text);
    let k = 0;
    for (let start = 0; start < buf.length;) {
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
      this.report();
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
    if (snap.found) snap.open.text = buf.toString('utf8', start, Math.min(end, start + EVENT_TEXT_BYTES));
    this.report();
  }

  /** Puts the open event into `found` the first time it is known to be a lock error. */
  private report(): void {
    const { found, open } = this.snap;
    if (!found || !open || !open.lock || open.dropped || open.reported) return;
    open.reported = true;
    found.push(open.time === undefined ? { text: open.text ?? '' } : { time: open.time, text: open.text ?? '' });
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
