// `tracedb-doctor monitor`: the lock monitor from a terminal, serving Prometheus metrics
// and optionally recording every hold and lock error as JSON lines, until Ctrl-C.
// Like the server's view, it opens no SQLite connection on a non-WAL database: the
// monitor reads /proc/locks and file headers, the health gauge runs the passive check.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { describeLockError, DoctorError, heldPhrase, Inspector, LOCK_ORDER, LockMonitor, logPathFor, MONITOR_DEFAULT_INTERVAL_MS } from '../engine';
import type { LockErrorEvent, LockHold } from '../shared/monitorModel';
import { MonitorMetrics } from './metrics';

export const MONITOR_VALUE_FLAGS = ['--listen', '--interval', '--record'];
export const MONITOR_FLAGS = ['--listen', '--log', '--interval', '--record'];

/** 9477: free in the Prometheus default port allocations list, next to the 94xx exporters. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 9477 };
/** The passive health check behind `tracedb_healthy` runs this often. */
const HEALTH_EVERY_MS = 5000;
/** A hold that blocked the proxy this long is worth a line on the terminal. */
const SAY_HOLD_MS = 1000;

export interface Listen {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[v6]:PORT`, or a bare `PORT` (on 127.0.0.1). */
export function parseListen(text: string): Listen {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new DoctorError(`--listen takes HOST:PORT (e.g. 127.0.0.1:${DEFAULT_LISTEN.port}; port 0 picks a free one), got "${text}"`);
  return { host: m[1] || m[2] || DEFAULT_LISTEN.host, port };
}

function parseInterval(text: string | undefined): number {
  if (text === undefined) return MONITOR_DEFAULT_INTERVAL_MS;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 10 || ms > 60_000)
    throw new DoctorError(`--interval takes milliseconds between samples, 10 to 60000 (default ${MONITOR_DEFAULT_INTERVAL_MS}), got "${text}"`);
  return ms;
}

function urlOf(l: Listen): string {
  return `http://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}/metrics`;
}

function checkDatabase(db: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(db);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DoctorError(`no database at ${db}; pass its path (tracedb-doctor monitor path/to/traces.db), or start the proxy once so it creates it`);
    }
    throw new DoctorError(`cannot read ${db}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new DoctorError(`${db} is not a database file; point the monitor at the traces.db file itself`);
}

function listenError(e: NodeJS.ErrnoException, l: Listen): DoctorError {
  const where = `${l.host}:${l.port}`;
  if (e.code === 'EADDRINUSE')
    return new DoctorError(`port ${l.port} on ${l.host} is in use: pass --listen ${l.host}:PORT with another port (0 picks a free one)`);
  if (e.code === 'EACCES') return new DoctorError(`no permission to listen on ${where}: use a port above 1023`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') return new DoctorError(`cannot listen on ${where}: this machine has no such address`);
  return new DoctorError(`cannot listen on ${where}: ${e.message}`);
}

function listen(server: http.Server, l: Listen): Promise<Listen> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(listenError(e, l));
    server.once('error', onError);
    server.listen(l.port, l.host, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(a && typeof a === 'object' ? { host: l.host, port: a.port } : l);
    });
  });
}

/** Appends JSON lines; a full disk or a removed file ends the recording, not the monitor. */
function recorder(file: string): { write(entry: object): void; close(): void } {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'a');
  } catch (e) {
    throw new DoctorError(`cannot open ${file} for --record: ${(e as Error).message}`);
  }
  return {
    write(entry) {
      if (fd === undefined) return;
      try {
        fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
      } catch (e) {
        process.stderr.write(`tracedb-doctor: recording to ${file} stopped: ${(e as Error).message}\n`);
        fs.closeSync(fd);
        fd = undefined;
      }
    },
    close() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * Says on the terminal which process blocked the proxy and for how long, one line per
 * process and moment: a transaction's RESERVED and SHARED end in the same sample.
 */
function holdAnnouncer(): (h: LockHold) => void {
  let pending: LockHold[] = [];
  const flush = () => {
    const ended = pending;
    pending = [];
    for (const key of new Set(ended.map((x) => `${x.pid}|${x.end}`))) {
      const mine = ended.filter((x) => `${x.pid}|${x.end}` === key).sort((a, b) => LOCK_ORDER.indexOf(a.lock) - LOCK_ORDER.indexOf(b.lock));
      const phrase = heldPhrase(mine.map((x) => ({ lock: x.lock, ms: (x.end ?? x.start) - x.start })));
      process.stderr.write(`tracedb-doctor: PID ${mine[0].pid} (${mine[0].holder}) held ${phrase}, blocking the proxy's commits\n`);
    }
  };
  return (h) => {
    // Holds that end in one sample are reported synchronously one after the other: gather them first.
    if (!pending.length) queueMicrotask(flush);
    pending.push(h);
  };
}

export async function monitorCommand(db: string, flags: ReadonlyMap<string, string | true>): Promise<number> {
  const value = (name: string) => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  checkDatabase(db);
  const intervalMs = parseInterval(value('--interval'));
  const where = parseListen(value('--listen') ?? `${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port}`);
  const explicitLog = value('--log');
  const logPath = explicitLog !== undefined ? path.resolve(explicitLog) : logPathFor(db).logPath;
  const recordFile = value('--record');
  const record = recordFile !== undefined ? recorder(path.resolve(recordFile)) : undefined;

  const monitor = new LockMonitor(db, { intervalMs, logPath });
  const inspector = new Inspector(db, { logPath });
  let healthy: boolean | undefined;
  let wal: boolean | undefined;
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const r = await inspector.check({ mode: 'passive' });
      healthy = r.healthy;
      wal = r.journalMode === 'unknown' ? wal : r.journalMode === 'wal';
    } catch {
      healthy = false;
    } finally {
      checking = false;
    }
  };
  const sayHold = holdAnnouncer();
  const metrics = new MonitorMetrics({ totals: () => monitor.totals(), healthy: () => healthy, wal: () => wal });
  monitor.onHoldEnd = (h: LockHold) => {
    metrics.observeHold(h);
    record?.write({ type: 'hold', ...h, heldMs: (h.end ?? h.start) - h.start });
    if (h.blocksProxy && !h.stoppedWhileHeld && h.end !== undefined && h.end - h.start >= SAY_HOLD_MS) sayHold(h);
  };
  monitor.onLockError = (e: LockErrorEvent) => {
    record?.write({ type: 'lock-error', ...e });
    process.stderr.write(`tracedb-doctor: ${describeLockError(e)}\n`);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (url.pathname === '/metrics') {
      metrics.text().then(
        (body) => res.writeHead(200, { 'Content-Type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (e: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${e.message}\n`),
      );
    } else if (url.pathname === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`Trace DB Doctor lock monitor for ${db}\nMetrics: /metrics\n`);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: the metrics are at /metrics\n');
    }
  });

  let bound: Listen;
  try {
    await check();
    bound = await listen(server, where);
  } catch (e) {
    record?.close();
    throw e;
  }
  monitor.start();
  const health = setInterval(() => void check(), HEALTH_EVERY_MS);
  health.unref();
  process.stderr.write(
    `tracedb-doctor: monitoring ${db} (${Math.round(1000 / intervalMs)} samples a second; log ${logPath}${record ? `; recording to ${recordFile}` : ''})\n` +
      `tracedb-doctor: Prometheus metrics at ${urlOf(bound)} (Ctrl-C stops)\n`,
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  clearInterval(health);
  monitor.stop();
  record?.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  process.stderr.write(`tracedb-doctor: ${signal}: stopped monitoring\n`);
  return 0;
}
