// What a scan of the log leaves behind: the counters and the place to read on from
// (for LogTail), and the LogSummary they make.
import { Tally, type EventState, type OpenEvent } from './logEvents';
import type { LogFormat } from './logLine';
import type { LogHourCount, LogSummary } from '../../shared/model';

/** A scan's result plus what `LogTail` needs to continue from it. */
export interface Snapshot extends EventState {
  path: string;
  exists: boolean;
  error?: string;
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

export function emptySnapshot(path: string): Snapshot {
  return {
    path,
    exists: false,
    tally: new Tally(),
    open: undefined,
    partial: undefined,
    resumeAt: 0,
    skipping: false,
    readTo: 0,
    size: 0,
    ino: 0,
    dev: 0,
    mtimeMs: 0,
    clock: undefined,
    floor: 0,
    floorPos: 0,
    scanned: 0,
    complete: false,
  };
}

export function errorSnapshot(path: string, err: unknown): Snapshot {
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

export function toSummary(snap: Snapshot): LogSummary {
  const extra = unclosed(snap);
  const t = extra.length > 0 ? snap.tally.clone() : snap.tally;
  for (const e of extra) t.add(e.time);
  const perHour: LogHourCount[] = [...t.hours].sort((a, b) => a[0] - b[0]).map(([h, count]) => ({ hour: new Date(h).toISOString(), count }));
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
