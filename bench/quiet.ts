// "Quiet when healthy" (DESIGN.md § Rules 6, § Performance targets): the doctor server's
// own CPU while it watches a database, on a machine crowded with processes that hold
// open files (the /proc/*/fd walk is what used to grow with them), and its memory
// before and after the first storage-code lint.
//
//   npm run bench -- quiet [--seconds S] [--repeat N] [--crowd N] [--files N]
//
// Runs on its own (no 1M-trace DB): a small DB per state in a temp folder laid out like
// TraceForge (packages/proxy/.ai-tests/traces.db), the writer started through a
// packages/proxy/dist/index.js so that the doctor names it the proxy, as it would the
// real one. The server is dist/server.js over real IPC, as the extension starts it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PublishDiagnosticsNotification } from 'vscode-languageserver-protocol/node';
import * as proto from '../src/shared/protocol';
import { startServer, type Server } from '../test/support/serverHarness';
import { ACTOR, CACHE_DIR, REPO, RESULTS_MD, log, sleep, stats } from './common';
import { startWriter, type Writer } from './writer';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const createTraceDb = (require('../test/fixtures/traceforge.cjs') as { createTraceDb(p: string, o: { rows: number; journalMode: string }): Promise<void> })
  .createTraceDb;

export interface QuietOptions {
  seconds: number;
  repeat: number;
  crowd: number;
  filesEach: number;
  rate: number;
}

interface StateDef {
  id: string;
  label: string;
  journalMode: 'delete' | 'wal';
  writer: boolean;
  /** watchInterest { names: true }: the Health view shows the processes. */
  names?: boolean;
  target?: number;
}

const STATES: StateDef[] = [
  { id: 'rollback-idle', label: 'rollback journal, idle', journalMode: 'delete', writer: false, target: 0.5 },
  { id: 'wal-idle', label: 'WAL, idle', journalMode: 'wal', writer: false, target: 0.5 },
  { id: 'wal-writer', label: 'WAL, proxy writing 20 traces/s', journalMode: 'wal', writer: true, target: 1 },
  { id: 'rollback-writer', label: 'rollback journal, proxy writing 20 traces/s', journalMode: 'delete', writer: true, target: 1 },
  { id: 'wal-names', label: 'WAL, proxy writing 20/s, processes shown in the tree', journalMode: 'wal', writer: true, names: true },
];

export interface StateResult {
  state: StateDef;
  /** % of one core, one figure per repeat. */
  cpu: number[];
  healthChanged: number[];
  dataChanged: number[];
  load: number[];
}

export interface QuietResults {
  opts: QuietOptions;
  states: StateResult[];
  rssBeforeLintMb: number;
  rssAfterLintMb: number;
  prodRssBeforeLintMb?: number;
  prodRssAfterLintMb?: number;
  settings: { pollIntervalMs: number; idleIntervalMs: number };
  date: string;
  crowdFds: number;
}

/** The defaults a fresh VS Code sends (package.json contributes.configuration). */
function defaultSettings(): { pollIntervalMs: number; idleIntervalMs: number } {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default: unknown }> } };
  };
  const p = pkg.contributes.configuration.properties;
  return { pollIntervalMs: Number(p['tracedb.pollIntervalMs'].default), idleIntervalMs: Number(p['tracedb.poll.idleIntervalMs']?.default ?? 30000) };
}

/** utime + stime of a process, in ms (USER_HZ is 100 on Linux). */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// ---------------------------------------------------------------- the crowd

export interface Crowd {
  pids: number[];
  stop(): void;
}

/**
 * N processes that each hold `filesEach` open files, like the editors, language servers
 * and browsers of a developer's laptop. `sleep` with inherited descriptors: a few hundred
 * of them cost almost no memory, and their fds are real entries in /proc/PID/fd.
 */
export function startCrowd(n: number, filesEach: number): Crowd {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-crowd-'));
  const fds = Array.from({ length: filesEach }, (_, i) => fs.openSync(path.join(dir, `f${i}.txt`), 'w'));
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++) {
      children.push(spawn('sleep', ['86400'], { stdio: ['ignore', 'ignore', 'ignore', ...fds], detached: false }));
    }
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  return {
    pids: children.map((c) => c.pid!).filter(Boolean),
    stop() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- a TraceForge-shaped folder

/** A temp repo with packages/proxy/.ai-tests/traces.db and an entry point that runs the writer as "the proxy". */
async function proxyWorkspace(journalMode: 'delete' | 'wal'): Promise<{ root: string; db: string; proxyDir: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-quiet-'));
  const proxyDir = path.join(root, 'packages', 'proxy');
  fs.mkdirSync(path.join(proxyDir, '.ai-tests'), { recursive: true });
  fs.mkdirSync(path.join(proxyDir, 'dist'), { recursive: true });
  // The proxy's entry point, running the bench's writer: process names come from argv.
  fs.writeFileSync(path.join(proxyDir, 'dist', 'index.js'), `require(${JSON.stringify(ACTOR)});\n`);
  const db = path.join(proxyDir, '.ai-tests', 'traces.db');
  await createTraceDb(db, { rows: 1000, journalMode });
  return { root, db, proxyDir };
}

/** The bench writer, started as packages/proxy/dist/index.js (actor.cjs reads argv[2..]). */
function startProxyWriter(db: string, proxyDir: string, rate: number): Promise<Writer> {
  return startWriter(db, { rate, busyTimeoutMs: 5000, entry: path.join(proxyDir, 'dist', 'index.js'), cwd: proxyDir });
}

// ---------------------------------------------------------------- measuring

async function measureState(
  server: Server,
  state: StateDef,
  opts: QuietOptions,
  settings: { pollIntervalMs: number; idleIntervalMs: number },
): Promise<StateResult> {
  const result: StateResult = { state, cpu: [], healthChanged: [], dataChanged: [], load: [] };
  const pid = server.child.pid!;
  for (let rep = 0; rep < opts.repeat; rep++) {
    const ws = await proxyWorkspace(state.journalMode);
    let writer: Writer | undefined;
    try {
      if (state.writer) writer = await startProxyWriter(ws.db, ws.proxyDir, opts.rate);
      await server.conn.sendRequest(proto.watchInterest, { names: state.names === true });
      await server.conn.sendRequest(proto.watch, { databases: [{ folderUri: `file://${ws.root}`, dbPath: ws.db }], ...settings });
      // The first report and the first walk of /proc are a one-time cost, not the steady state.
      const first = Date.now();
      while (!server.changes.some((c) => c.dbPath === ws.db) && Date.now() - first < 20_000) await sleep(100);
      await sleep(5000);
      const changes0 = server.changes.length;
      const data0 = server.data.length;
      const cpu0 = cpuMs(pid);
      const t0 = performance.now();
      await sleep(opts.seconds * 1000);
      const cpu1 = cpuMs(pid);
      const t1 = performance.now();
      const pct = ((cpu1 - cpu0) / (t1 - t0)) * 100;
      result.cpu.push(pct);
      result.healthChanged.push(server.changes.length - changes0);
      result.dataChanged.push(server.data.length - data0);
      result.load.push(os.loadavg()[0]);
      // What changed, when anything did: a healthy DB that stays healthy should say nothing.
      for (const c of server.changes.slice(changes0)) {
        log(
          `    healthChanged ${c.report.checkedAt}: ${c.report.findings.map((f) => f.code).join(', ') || 'healthy'}; locks ${c.report.locks.map((l) => `${l.pid}:${l.lock}${l.stuck ? '(stuck)' : ''}`).join(' ') || 'none'}`,
        );
      }
      log(
        `  ${state.label}: ${pct.toFixed(2)}% of one core over ${opts.seconds} s; ${server.changes.length - changes0} healthChanged, ${server.data.length - data0} dataChanged; load ${os.loadavg()[0].toFixed(2)}`,
      );
    } finally {
      await server.conn.sendRequest(proto.watch, { databases: [], ...settings }).catch(() => undefined);
      if (writer) await writer.stop().catch(() => undefined);
      fs.rmSync(ws.root, { recursive: true, force: true });
    }
  }
  return result;
}

/** RSS before any lint, then after linting one storage file (the compiler loads then). */
async function lintRss(serverJs?: string): Promise<{ before: number; after: number }> {
  const server = await startServer(undefined, serverJs);
  try {
    await sleep(3000);
    const before = rssMb(server.child.pid!);
    const uri = `file://${path.join(os.tmpdir(), 'tracedb-bench-storage.ts')}`;
    let diagnosed = false;
    server.conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      if (p.uri === uri) diagnosed = true;
    });
    const text = `import Database from 'better-sqlite3';\nexport const db = new Database('.ai-tests/traces.db');\n`;
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
    const t = Date.now();
    while (!diagnosed && Date.now() - t < 30_000) await sleep(50);
    if (!diagnosed) throw new Error('the storage lint published no diagnostics within 30 s');
    await sleep(2000);
    return { before, after: rssMb(server.child.pid!) };
  } finally {
    await server.close();
  }
}

/**
 * The server as the VSIX ships it (esbuild.mjs --production: minified), built into the
 * bench cache: `npm run bench` builds the development bundle, whose unminified code V8
 * parses differently, and memory is a property of what users run.
 */
async function productionServer(): Promise<string | undefined> {
  try {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    const outdir = path.join(CACHE_DIR, 'server-production');
    await esbuild.build({
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      sourcemap: false,
      logLevel: 'silent',
      external: ['vscode', '@vscode/sqlite3'],
      // The linter is its own bundle beside the server (esbuild.mjs), loaded on first use.
      entryPoints: { server: path.join(REPO, 'src', 'server', 'main.ts'), lint: path.join(REPO, 'src', 'lint', 'pragmaLint.ts') },
      outdir,
    });
    return path.join(outdir, 'server.js');
  } catch (e) {
    log(`  production bundle not built (${e instanceof Error ? e.message : String(e)}): skipped`);
    return undefined;
  }
}

export async function runQuietBench(opts: QuietOptions): Promise<QuietResults> {
  const settings = defaultSettings();
  log(
    `quiet when healthy: ${opts.crowd} background processes × ${opts.filesEach} open files; ${opts.seconds} s per state, ${opts.repeat}× each; settings ${JSON.stringify(settings)}`,
  );
  const crowd = startCrowd(opts.crowd, opts.filesEach);
  const onSignal = () => {
    crowd.stop();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const states: StateResult[] = [];
  let rss: { before: number; after: number };
  let prod: { before: number; after: number } | undefined;
  let crowdFds: number;
  try {
    await sleep(1000);
    crowdFds = crowd.pids.reduce((n, pid) => n + (fs.existsSync(`/proc/${pid}/fd`) ? fs.readdirSync(`/proc/${pid}/fd`).length : 0), 0);
    log(`  crowd: ${crowd.pids.length} processes, ${crowdFds} open fds between them`);
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const server = await startServer();
    try {
      // Loading and compiling the bundle, and V8's work after it, is not the steady state.
      await sleep(15_000);
      for (const s of STATES) states.push(await measureState(server, s, opts, settings));
    } finally {
      await server.close();
    }
    log('server memory before and after the first storage-code lint…');
    rss = await lintRss();
    log(`  dist/server.js: ${rss.before.toFixed(1)} MB before, ${rss.after.toFixed(1)} MB after`);
    const prodJs = await productionServer();
    if (prodJs) {
      prod = await lintRss(prodJs);
      log(`  production bundle: ${prod.before.toFixed(1)} MB before, ${prod.after.toFixed(1)} MB after`);
    }
  } finally {
    crowd.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return {
    opts,
    states,
    rssBeforeLintMb: rss.before,
    rssAfterLintMb: rss.after,
    ...(prod ? { prodRssBeforeLintMb: prod.before, prodRssAfterLintMb: prod.after } : {}),
    settings,
    date: new Date().toISOString(),
    crowdFds,
  };
}

// ---------------------------------------------------------------- the table

const MARK_START = '<!-- quiet:start -->';
const MARK_END = '<!-- quiet:end -->';

function spread(values: number[], digits: number, unit = ''): string {
  const s = stats(values);
  if (values.length === 1) return `${values[0].toFixed(digits)}${unit}`;
  return `median ${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)}, ${values.length} runs)`;
}

export function quietTable(r: QuietResults): string {
  const rows = r.states.map((s) => {
    const med = stats(s.cpu).median;
    const verdict = s.state.target === undefined ? '–' : `≤ ${s.state.target}% ${med <= s.state.target ? '✅' : '❌'}`;
    return `| ${s.state.label} | ${spread(s.cpu, 2, '%')} | ${spread(s.healthChanged, 0)} healthChanged · ${spread(s.dataChanged, 0)} dataChanged | ${verdict} |`;
  });
  const mem = (before: number, after: number, what: string) =>
    `| server RSS, ${what} | ${before.toFixed(1)} MB before the first lint → ${after.toFixed(1)} MB after | – | ≤ 60 MB before ${before <= 60 ? '✅' : '❌'} |`;
  const loads = r.states.flatMap((s) => s.load);
  return `${MARK_START}
## Quiet when healthy (\`npm run bench -- quiet\`)

Measured on ${r.date}: the doctor server (dist/server.js over IPC) watching one database with the default
settings (pollIntervalMs ${r.settings.pollIntervalMs}, poll.idleIntervalMs ${r.settings.idleIntervalMs}), while ${r.opts.crowd} background processes
hold ${r.opts.filesEach} files each (${r.crowdFds.toLocaleString('en-US')} open fds). CPU is the server's own utime + stime from /proc/PID/stat
over ${r.opts.seconds} s per run, after 5 s of settling; 1-minute load average at the end of the runs ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on ${os.cpus().length} cores
(other work on this shared machine included). The writer is test/fixtures/actor.cjs started as packages/proxy/dist/index.js, so
the doctor names it the proxy, as it names the real one.

| State | Server CPU (% of one core) | Notifications in the window | Target |
| --- | --- | --- | --- |
${rows.join('\n')}
${mem(r.rssBeforeLintMb, r.rssAfterLintMb, 'development bundle (`npm run build`)')}
${r.prodRssBeforeLintMb !== undefined ? mem(r.prodRssBeforeLintMb, r.prodRssAfterLintMb!, 'production bundle (as the VSIX ships it)') : ''}
${MARK_END}`;
}

/** Puts the quiet section into bench/results.md, replacing an earlier one. */
export function writeQuietSection(section: string): void {
  const old = fs.existsSync(RESULTS_MD) ? fs.readFileSync(RESULTS_MD, 'utf8') : '# Benchmark results\n';
  const start = old.indexOf(MARK_START);
  const end = old.indexOf(MARK_END);
  const next = start >= 0 && end > start ? `${old.slice(0, start)}${section}${old.slice(end + MARK_END.length)}` : `${old.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(RESULTS_MD, next);
}

/** The quiet section of the current results.md, to keep when the main bench rewrites the file. */
export function currentQuietSection(): string | undefined {
  if (!fs.existsSync(RESULTS_MD)) return undefined;
  const old = fs.readFileSync(RESULTS_MD, 'utf8');
  const start = old.indexOf(MARK_START);
  const end = old.indexOf(MARK_END);
  return start >= 0 && end > start ? old.slice(start, end + MARK_END.length) : undefined;
}
