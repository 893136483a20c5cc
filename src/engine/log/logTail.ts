// The proxy's log as the server polls it every few seconds: after the first scan, only
// what the proxy appended since the last poll is read (logScan.ts has the reading).
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { LogLockEvent } from './logEvents';
import { limits, OPEN_FLAGS, scanForward, snapshotOf, type LogScanOptions } from './logScan';
import { emptySnapshot, errorSnapshot, toSummary, type Snapshot } from './logSnapshot';
import { withFileGate } from '../sqlite/fileGate';
import type { LogSummary } from '../../shared/model';

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
  /**
   * Called once for each lock-error event the proxy appends after the first update, as
   * soon as a line of it is read (the lock monitor links each to the lock holders of
   * that moment). With a listener, a log that appears or is replaced after the first
   * update is read from its start, so its events are reported too.
   */
  onLockEvent?: (e: LogLockEvent) => void;

  constructor(
    readonly path: string,
    opts?: LogScanOptions,
  ) {
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
    if (this.onLockEvent && st.isFile() && st.size <= this.opts.maxBytes && (!same || st.size < prev.readTo)) {
      // A new file (created, rotated, truncated) holds only what was written since: all of it is news.
      const fresh: Snapshot = { ...emptySnapshot(this.path), exists: true, ino: st.ino, dev: st.dev, mtimeMs: st.mtimeMs, complete: true };
      const s = await this.append(fresh);
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
      if (this.onLockEvent) snap.found = [];
      await scanForward(fh, snap, st.size, this.opts, t0);
      const found = snap.found ?? [];
      snap.found = undefined;
      this.snap = snap;
      this.summary = toSummary(snap);
      for (const e of found) this.onLockEvent?.(e);
      return this.summary;
    } catch {
      return undefined;
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}
