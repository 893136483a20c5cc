// Shared test plumbing: temp folders with real trace DBs, and real child processes
// (test/fixtures/actor.cjs) that hold SQLite locks or write like the proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixture = require('../fixtures/traceforge.cjs') as {
  createTraceDb(p: string, opts?: { rows?: number; journalMode?: string; legacy?: boolean; extra?: string }): Promise<void>;
  open(p: string): Promise<{
    exec(sql: string): Promise<void>;
    get(sql: string, p?: unknown): Promise<Record<string, unknown>>;
    all(sql: string, p?: unknown): Promise<Record<string, unknown>[]>;
    close(): Promise<void>;
  }>;
};

export const createTraceDb = fixture.createTraceDb;
export const openFixtureDb = fixture.open;

export const ACTOR = path.resolve(__dirname, '../fixtures/actor.cjs');
export const REPO = path.resolve(__dirname, '../..');

const tempDirs: string[] = [];
const children = new Set<ChildProcess>();

export function tempDir(prefix = 'tracedb-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A workspace-like folder with `.ai-tests/traces.db`. */
export async function traceWorkspace(opts: { rows?: number; journalMode?: string; legacy?: boolean } = {}): Promise<{ root: string; db: string }> {
  const root = tempDir();
  fs.mkdirSync(path.join(root, '.ai-tests'));
  const db = path.join(root, '.ai-tests', 'traces.db');
  await createTraceDb(db, { rows: opts.rows ?? 50, journalMode: opts.journalMode ?? 'delete', legacy: opts.legacy });
  return { root, db };
}

export interface WriterSummary {
  committed: string[];
  attempts: number;
  busyErrors: number;
  otherErrors: string[];
  elapsedMs: number;
  p50: number;
  p99: number;
  max: number;
}

export interface Actor {
  pid: number;
  child: ChildProcess;
  /** Ends the actor (stdin close → rollback/close) and resolves with the writer summary, if any. */
  stop(): Promise<WriterSummary | undefined>;
}

/** Starts test/fixtures/actor.cjs and resolves once it printed `ready`. */
export function startActor(mode: string, db: string, args: string[] = []): Promise<Actor> {
  const child = spawn(process.execPath, [ACTOR, mode, db, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((res) =>
    child.on('exit', (code) => {
      children.delete(child);
      res(code);
    }),
  );
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`actor ${mode} not ready after 20 s: ${err}`)), 20000);
    const onData = () => {
      if (/^ready \d+$/m.test(out)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve({
          pid: child.pid!,
          child,
          async stop() {
            child.stdin.end();
            const code = await exited;
            if (code !== 0) throw new Error(`actor ${mode} exited ${code}: ${err}`);
            const m = /^summary (.*)$/m.exec(out);
            return m ? (JSON.parse(m[1]) as WriterSummary) : undefined;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`actor ${mode} exited ${code} before ready: ${err}`));
    });
  });
}

export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Names and hashes of every file in a folder: proves an inspection left it byte-for-byte unchanged. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    out[name] = st.isFile() ? sha256(p) : 'dir';
  }
  return out;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const PROCESSES = path.resolve(__dirname, '../fixtures/processes');

/**
 * The proxy's entry files in `proxyDir` (src/index.ts for tsx, dist/index.js for `start`),
 * both handing over to test/fixtures/processes/proxyEntry.cjs, and stand-ins for tsx's
 * preflight and loader under `root`/node_modules/tsx/dist, so a child process has the real
 * proxy's command line. Returns that tsx dist folder.
 */
export function installProxyStandIn(root: string, proxyDir: string): string {
  const entry = `require(${JSON.stringify(path.join(PROCESSES, 'proxyEntry.cjs'))});\n`;
  for (const f of ['src/index.ts', 'dist/index.js']) {
    fs.mkdirSync(path.join(proxyDir, path.dirname(f)), { recursive: true });
    fs.writeFileSync(path.join(proxyDir, f), entry);
  }
  const tsxDist = path.join(root, 'node_modules', 'tsx', 'dist');
  fs.mkdirSync(tsxDist, { recursive: true });
  for (const f of ['preflight.cjs', 'loader.mjs', 'hooks.mjs']) fs.copyFileSync(path.join(PROCESSES, 'tsx', f), path.join(tsxDist, f));
  return tsxDist;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

// Every child and temp folder goes, even when a test fails.
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
});
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});
