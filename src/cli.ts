// tracedb-doctor: the doctor's engine from a terminal or CI.
// Exit codes for `check`: 0 healthy, 1 problems found, 2 could not inspect.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backupDatabase } from './engine/backup';
import { checkpoint } from './engine/checkpoint';
import { enableWal } from './engine/enableWal';
import { DoctorError } from './engine/errors';
import { inspect } from './engine/inspect';
import { sampleLocks } from './engine/locks';
import { formatLockLines, formatReport } from './engine/reportText';

const DEFAULT_DB = path.join('.ai-tests', 'traces.db');
const DEFAULT_LOG = path.join('packages', 'proxy', 'logs', 'error.log');

const USAGE = `Usage: tracedb-doctor <command> [DB] [options]

Diagnoses and repairs the TraceForge proxy's SQLite trace database (RUNBOOK-002).
DB defaults to ${DEFAULT_DB} under the current folder.

Commands:
  check [DB] [--json] [--passive] [--count] [--integrity] [--log FILE]
      Runs the runbook's diagnosis. --passive is exactly the server's periodic poll
      (no SQLite connection on a non-WAL database). --count counts traces exactly;
      --integrity runs quick_check (on a copy when not in WAL mode). The log defaults
      to ${DEFAULT_LOG} when it exists. Exit 0 healthy, 1 problems, 2 could not inspect.
  enable-wal [DB] [--timeout MS] [--backup] [--force]
      Switches to WAL, retrying under load; exit 0 only when a fresh connection reads 'wal'.
  holders [DB] [--json]
      Who has the database open, and which SQLite locks they hold now.
  checkpoint [DB] [--truncate]
      Checkpoints the WAL (PASSIVE, or TRUNCATE to reset the -wal file).
  backup [DB] [--out FILE]
      Online backup into .ai-tests/backups/ (or FILE).
`;

interface Args {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--log', '--timeout', '--out']);
const KNOWN_FLAGS: Record<string, string[]> = {
  check: ['--json', '--passive', '--count', '--integrity', '--log'],
  'enable-wal': ['--timeout', '--backup', '--force', '--json'],
  holders: ['--json'],
  checkpoint: ['--truncate', '--json'],
  backup: ['--out', '--json'],
};

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
    if (positional.length > 1) throw new UsageError(`${command} takes one database path, got ${positional.length}`);
  }
  return { command, positional, flags };
}

function dbArg(a: Args): string {
  return path.resolve(a.positional[0] ?? DEFAULT_DB);
}

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
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
        onProgress: json ? undefined : (e) => process.stderr.write(`${e.message}\n`),
      });
      if (json) out(JSON.stringify(result, null, 2));
      else {
        out(result.message);
        if (result.backupPath) out(`Backup: ${result.backupPath}`);
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
        onProgress: json ? undefined : (e) => process.stderr.write(`${e.message}\n`),
      });
      out(json ? JSON.stringify(result, null, 2) : result.message);
      return 0;
    }
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command "${a.command}"`);
  }
}

/** The proxy's log sits at packages/proxy/logs/error.log in the repo that holds .ai-tests/. */
function defaultLogFor(db: string): string | undefined {
  const dir = path.dirname(db);
  const root = path.basename(dir) === '.ai-tests' ? path.dirname(dir) : process.cwd();
  const log = path.join(root, DEFAULT_LOG);
  return fs.existsSync(log) ? log : undefined;
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
