// tracedb-doctor: the doctor's engine from a terminal or CI.
// Exit codes for `check`: 0 healthy, 1 problems found, 2 could not inspect.
import { backupDatabase, checkpoint, enableWal, discoverDatabases, logPathFor, DoctorError, inspect, sampleLocks, getTrace, listTraces } from '../engine';
import type { TraceDetail, TraceFilter, TraceRow, TraceSort } from '../shared/traceModel';
import * as path from 'node:path';
import { formatLockLines, formatReport } from '../shared/reportText';
import type { ProgressEvent } from '../shared/model';
import { MONITOR_FLAGS, MONITOR_VALUE_FLAGS, monitorCommand } from './monitorCommand';
// Inlined by esbuild at build time: dist/cli.js reports the version it was built from.
import { version } from '../../package.json';

const DEFAULT_DB = path.join('.ai-tests', 'traces.db');

const USAGE = `Usage: tracedb-doctor <command> [DB] [options]
       tracedb-doctor --version | -v

Diagnoses and repairs the TraceForge proxy's SQLite trace database (RUNBOOK-002).
Without DB, the database is found the way the proxy finds it, from the current folder:
the file a running proxy has open, TRACEFORGE_SQLITE_PATH (its environment or a .env
file), packages/proxy/${DEFAULT_DB}, ${DEFAULT_DB}, any other **/${DEFAULT_DB}.

Commands:
  check [DB] [--json] [--passive] [--count] [--integrity] [--log FILE]
      Runs the runbook's diagnosis. --passive is exactly the server's periodic poll
      (no SQLite connection on a non-WAL database). --count counts traces exactly;
      --integrity runs quick_check (on a copy when not in WAL mode). The log defaults
      to logs/proxy.log or logs/error.log in the folder the proxy runs in (the one that
      holds .ai-tests/). Exit 0 healthy, 1 problems, 2 could not inspect.
  enable-wal [DB] [--timeout MS] [--backup] [--force]
      Switches to WAL, retrying under load; exit 0 only when a fresh connection reads 'wal'.
  holders [DB] [--json]
      Who has the database open, and which SQLite locks they hold now.
  checkpoint [DB] [--truncate]
      Checkpoints the WAL (PASSIVE, or TRUNCATE to reset the -wal file).
  backup [DB] [--out FILE]
      Online backup into .ai-tests/backups/ (or FILE).
  traces [DB] [--sort time|latency|tokens] [--dir asc|desc] [--model M] [--status success|error]
         [--endpoint E] [--session S] [--search Q] [--limit N] [--json]
      Lists traces, newest first (--limit, default 50, at most 200). --search is full-text
      (FTS5 syntax). Not in WAL mode, latency/tokens sorts and unindexed filters look at
      the newest few thousand traces only, so the proxy is not blocked (said on stderr).
      --json: {rows, hasMore, cursor, notice}.
  show ID [DB] [--json]
      One trace: the conversation, tokens, latency and error (--json: every field).
  monitor [DB] [--listen HOST:PORT] [--log FILE] [--interval MS] [--record FILE]
      Samples who holds which SQLite lock 10 times a second (--interval, default 100 ms)
      from /proc/locks, without opening the database, and serves Prometheus metrics at
      http://127.0.0.1:9477/metrics (--listen; port 0 picks a free one): hold times per
      lock and holder, the proxy's blocked time, lock errors in its log, commits, WAL size,
      health. --record appends each hold and lock error as a JSON line. Ctrl-C stops.
`;

interface Args {
  command: string;
  /** The database, once resolved (the positional argument, or discovered from the current folder). */
  db?: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--log', '--timeout', '--out', '--sort', '--dir', '--model', '--status', '--endpoint', '--session', '--search', '--limit']);
for (const f of MONITOR_VALUE_FLAGS) VALUE_FLAGS.add(f);
const KNOWN_FLAGS: Record<string, string[]> = {
  check: ['--json', '--passive', '--count', '--integrity', '--log'],
  'enable-wal': ['--timeout', '--backup', '--force', '--json'],
  holders: ['--json'],
  checkpoint: ['--truncate', '--json'],
  backup: ['--out', '--json'],
  traces: ['--sort', '--dir', '--model', '--status', '--endpoint', '--session', '--search', '--limit', '--json'],
  show: ['--json'],
  monitor: MONITOR_FLAGS,
};

/** `show` takes the trace's id first; every other command's only positional is the database. */
function dbPositional(a: Pick<Args, 'command' | 'positional'>): string | undefined {
  return a.positional[a.command === 'show' ? 1 : 0];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): Args {
  const [command = 'help', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a.startsWith('--')) {
      const [name, inline] = a.split('=', 2);
      if (VALUE_FLAGS.has(name)) {
        const v = inline ?? rest[++i];
        if (v === undefined) throw new UsageError(`${name} needs a value`);
        flags.set(name, v);
      } else flags.set(name, true);
    } else positional.push(a);
  }
  const known = KNOWN_FLAGS[command];
  if (known) {
    for (const f of flags.keys()) if (!known.includes(f)) throw new UsageError(`unknown option ${f} for ${command}`);
    if (command === 'show') {
      if (!positional.length) throw new UsageError('show needs the id of a trace');
      if (positional.length > 2) throw new UsageError(`show takes a trace id and one database path, got ${positional.length} arguments`);
    } else if (positional.length > 1) throw new UsageError(`${command} takes one database path, got ${positional.length}`);
  }
  return { command, positional, flags };
}

function dbArg(a: Args): string {
  return a.db ?? path.resolve(dbPositional(a) ?? DEFAULT_DB);
}

/** The DB to work on: the one given, or the best one found from the current folder (said on stderr). */
async function resolveDb(a: Args): Promise<string> {
  const given = dbPositional(a);
  if (given) return path.resolve(given);
  const found = await discoverDatabases(process.cwd());
  const best = found.find((c) => c.exists);
  if (!best) return path.resolve(found[0]?.dbPath ?? DEFAULT_DB);
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  const others = found.filter((c) => c.exists && c !== best);
  const why = best.openByProxy.length ? `open by the proxy, PID ${best.openByProxy.join(', ')}` : best.source === 'env' ? 'TRACEFORGE_SQLITE_PATH' : 'found';
  process.stderr.write(
    `tracedb-doctor: ${rel(best.dbPath)} (${why})${others.length ? `; also found ${others.map((c) => rel(c.dbPath)).join(', ')} (pass a path to choose)` : ''}\n`,
  );
  return best.dbPath;
}

/** Progress on stderr: a copy reports every few MB, a terminal wants a line per stage and per tenth. */
function progressPrinter(): (e: ProgressEvent) => void {
  let shown = -10;
  return (e) => {
    if (e.percent !== undefined && e.percent < shown + 10 && e.percent !== 100) return;
    shown = e.percent ?? shown;
    process.stderr.write(`${e.message}\n`);
  };
}

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (KNOWN_FLAGS[a.command]) a.db = await resolveDb(a);
  const json = a.flags.has('--json');
  switch (a.command) {
    case 'check': {
      const db = dbArg(a);
      const explicitLog = a.flags.get('--log');
      const logPath = typeof explicitLog === 'string' ? path.resolve(explicitLog) : defaultLogFor(db);
      const report = await inspect(db, {
        mode: a.flags.has('--passive') ? 'passive' : 'full',
        countExact: a.flags.has('--count'),
        integrity: a.flags.has('--integrity'),
        logPath,
        confirmStuck: true,
      });
      out(json ? JSON.stringify(report, null, 2) : formatReport(report));
      if (!report.reachable) {
        const f = report.findings.find((x) => x.code === report.unreachableReason) ?? report.findings[0];
        process.stderr.write(`tracedb-doctor: cannot inspect ${db}: ${f?.message ?? report.unreachableReason}\n`);
        return 2;
      }
      return report.healthy ? 0 : 1;
    }
    case 'enable-wal': {
      const t = a.flags.get('--timeout');
      const timeoutMs = typeof t === 'string' ? Number(t) : undefined;
      if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new UsageError('--timeout takes a number of milliseconds');
      const result = await enableWal(dbArg(a), {
        timeoutMs,
        backup: a.flags.has('--backup'),
        force: a.flags.has('--force'),
        onProgress: json ? undefined : progressPrinter(),
      });
      if (json) out(JSON.stringify(result, null, 2));
      else {
        out(result.message);
        if (result.backupPath) out(`Backup: ${result.backupPath} (from a WAL snapshot, after the switch)`);
        // The switch stands, so the exit code stays 0; the missing backup still deserves stderr.
        if (result.backupError) process.stderr.write(`tracedb-doctor: warning: the backup after the switch failed: ${result.backupError}\n`);
        for (const b of result.blockers) out(`  blocker: PID ${b.pid} ${b.label} [${b.locks.join(', ')}]: ${b.command}`);
      }
      return result.ok ? 0 : 1;
    }
    case 'holders': {
      const sample = await sampleLocks(dbArg(a));
      out(json ? JSON.stringify(sample, null, 2) : formatLockLines(sample).join('\n'));
      return 0;
    }
    case 'checkpoint': {
      const result = await checkpoint(dbArg(a), a.flags.has('--truncate') ? 'TRUNCATE' : 'PASSIVE');
      out(json ? JSON.stringify(result, null, 2) : result.message);
      return result.ok ? 0 : 1;
    }
    case 'backup': {
      const o = a.flags.get('--out');
      const result = await backupDatabase(dbArg(a), {
        out: typeof o === 'string' ? o : undefined,
        onProgress: json ? undefined : progressPrinter(),
      });
      if (json) out(JSON.stringify(result, null, 2));
      else {
        out(result.message);
        if (result.mode === 'rollback-shared') out(`The proxy's writes waited ${result.pauseMs} ms (estimated beforehand: ${result.estimatedPauseMs} ms).`);
      }
      return 0;
    }
    case 'traces': {
      const page = await listTraces(dbArg(a), tracesParams(a));
      if (json) out(JSON.stringify({ rows: page.rows, hasMore: page.hasMore, cursor: page.cursor ?? null, notice: page.notice ?? null }, null, 2));
      else {
        out(page.rows.length ? page.rows.map(traceLine).join('\n') : 'No traces match.');
        if (page.hasMore) process.stderr.write(`tracedb-doctor: more traces follow (--limit, or --json for the cursor)\n`);
        if (page.notice) process.stderr.write(`tracedb-doctor: ${page.notice}\n`);
      }
      return 0;
    }
    case 'show': {
      const id = a.positional[0];
      const t = await getTrace(dbArg(a), id);
      if (!t) {
        process.stderr.write(`tracedb-doctor: no trace ${id} in ${dbArg(a)}\n`);
        return 1;
      }
      out(json ? JSON.stringify(t, null, 2) : formatTrace(t));
      return 0;
    }
    case 'monitor':
      return monitorCommand(dbArg(a), a.flags);
    case '--version':
    case '-v':
      out(version);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command "${a.command}"`);
  }
}

function tracesParams(a: Args): Parameters<typeof listTraces>[1] {
  const str = (name: string) => {
    const v = a.flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const v = str(name);
    if (v !== undefined && !allowed.includes(v as T)) throw new UsageError(`${name} takes ${allowed.join(' or ')}, got "${v}"`);
    return v as T | undefined;
  };
  const limitText = str('--limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit takes a positive whole number');
  const filter: TraceFilter = {};
  const model = str('--model');
  const status = oneOf('--status', ['success', 'error'] as const);
  const endpoint = str('--endpoint');
  const sessionId = str('--session');
  const search = str('--search');
  if (model) filter.model = model;
  if (status) filter.status = status;
  if (endpoint) filter.endpoint = endpoint;
  if (sessionId) filter.sessionId = sessionId;
  if (search) filter.search = search;
  return { filter, sort: oneOf<TraceSort>('--sort', ['time', 'latency', 'tokens']), dir: oneOf('--dir', ['asc', 'desc'] as const), limit };
}

/** One line a trace, in columns: time, model, status, latency, tokens, id, then the prompt's first words. */
function traceLine(r: TraceRow): string {
  const preview = (r.preview ?? '').replace(/\s+/g, ' ').slice(0, 60);
  const lat = r.latencyMs === null ? '-' : `${r.latencyMs} ms`;
  return [r.timestamp, (r.model ?? '-').padEnd(16), (r.status ?? '-').padEnd(7), lat.padStart(9), `${r.tokens ?? '-'} tok`.padStart(10), r.id, preview].join(
    '  ',
  );
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Message content as text: a string, or the text parts of a multi-part content array. */
function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c))
    return c
      .map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : JSON.stringify(p)))
      .join('\n');
  return c === undefined || c === null ? '' : JSON.stringify(c);
}

function formatTrace(t: TraceDetail): string {
  const req = parseJson(t.request.text) as { model?: unknown; messages?: { role?: unknown; content?: unknown }[] } | string | null;
  const res = parseJson(t.response.text) as { choices?: { message?: { role?: unknown; content?: unknown } }[]; content?: unknown } | string | null;
  const meta = (parseJson(t.metadata.text) ?? {}) as Record<string, unknown>;
  const lines = [
    `Trace ${t.id}`,
    `${t.timestamp} · ${t.endpoint}${meta.model ? ` · ${String(meta.model)}` : ''}${meta.status ? ` · ${String(meta.status)}` : ''}`,
  ];
  lines.push(`Latency: ${meta.duration_ms ?? '-'} ms · tokens: ${meta.tokens_used ?? '-'}`);
  if (t.sessionId !== null) lines.push(`Session: ${t.sessionId}${t.stepIndex !== null ? ` step ${t.stepIndex}` : ''}`);
  if (meta.error) lines.push(`Error: ${typeof meta.error === 'string' ? meta.error : JSON.stringify(meta.error)}`);
  lines.push('', 'Conversation:');
  if (req && typeof req === 'object' && Array.isArray(req.messages))
    for (const m of req.messages) lines.push(`[${String(m?.role ?? '?')}] ${contentText(m?.content)}`);
  else lines.push(`[request] ${typeof req === 'string' ? req : JSON.stringify(req)}`);
  const answer =
    res && typeof res === 'object'
      ? (res.choices?.[0]?.message ?? (res.content !== undefined ? { role: 'assistant', content: res.content } : undefined))
      : undefined;
  if (answer) lines.push(`[${String(answer.role ?? 'assistant')}] ${contentText(answer.content)}`);
  else if (res !== null) lines.push(`[response] ${typeof res === 'string' ? res : JSON.stringify(res)}`);
  else lines.push('(no response)');
  const cut = [t.request, t.response, t.metadata].some((f) => f.truncated);
  if (cut) lines.push('', '(a field was cut at 256 KiB: --json shows its full length)');
  return lines.join('\n');
}

/**
 * The proxy's log beside the folder it runs in (logs/proxy.log or logs/error.log); when
 * there is none, where Restart Proxy would keep it, so the report says the proxy logs to stdout.
 */
function defaultLogFor(db: string): string {
  return logPathFor(db).logPath;
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      if (e instanceof UsageError) {
        process.stderr.write(`tracedb-doctor: ${e.message}\n\n${USAGE}`);
        process.exitCode = 2;
      } else if (e instanceof DoctorError) {
        process.stderr.write(`tracedb-doctor: ${e.message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`tracedb-doctor: unexpected error: ${(e as Error)?.stack ?? e}\n`);
        process.exitCode = 2;
      }
    },
  );
}
