// Counts SQLite lock errors in the proxy's log: RUNBOOK-002's
// `grep "database is locked" packages/proxy/logs/error.log`, but by event (logEvents.ts),
// with times, a per-hour histogram and hard bounds. The log can be gigabytes and the
// server polls it every few seconds, so a scan reads backwards from the end (the recent
// errors are the ones that matter) under a byte and a time budget, keeps only counters,
// and `LogTail` (logTail.ts) then reads nothing but what the proxy appended since the
// last poll.
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { BackwardEvents, ForwardEvents } from './logEvents';
import { NL } from './logLine';
import { emptySnapshot, errorSnapshot, toSummary, type Snapshot } from './logSnapshot';
import { withFileGate } from '../sqlite/fileGate';
import type { LogSummary } from '../../shared/model';

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

const MiB = 1024 * 1024;
const DEFAULTS: Required<LogScanOptions> = { maxBytes: 64 * MiB, maxMs: 500, chunkSize: MiB, maxLineBytes: 4 * MiB };

export function limits(opts: LogScanOptions | undefined): Required<LogScanOptions> {
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
export async function scanForward(fh: fs.FileHandle, snap: Snapshot, to: number, o: Required<LogScanOptions>, t0: number): Promise<void> {
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

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
export const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

// Through the file gate (as a log path may be the database or its -shm): closing this
// descriptor would drop the doctor's own SQLite locks in the middle of a read.
export function snapshotOf(path: string, o: Required<LogScanOptions>): Promise<Snapshot> {
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
