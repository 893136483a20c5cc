// Naming the processes that hold the trace DB: argv/cwd tables, then real processes
// laid out like a TraceForge checkout (packages/proxy with its .ai-tests folder): a
// Python notebook run from packages/proxy is the blocker, tsx's node child running
// src/index.ts is the proxy, and so is whoever serves config.yaml's proxy_port.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sampleLocks } from '../../../../src/engine/locks/sampleLocks';
import { classifyHolder } from '../../../../src/engine/locks/processNames';
import { DEFAULT_PROXY_PORT, parseListeningInodes, parseProxyPort, proxyDirOf, proxyPortFor } from '../../../../src/engine/locks/proxyPort';
import type { Holder, LockSample } from '../../../../src/shared/model';
import { createTraceDb, installProxyStandIn, PROCESSES, tempDir } from '../../../support/helpers';

const SELF = 1000;
const PROXY_DIR = '/repo/packages/proxy';
const TSX_ARGV = [
  'node',
  '--require',
  '/repo/node_modules/.pnpm/tsx@4.19.2/node_modules/tsx/dist/preflight.cjs',
  '--import',
  'file:///repo/node_modules/.pnpm/tsx@4.19.2/node_modules/tsx/dist/loader.mjs',
  'src/index.ts',
];

function classify(argv: string[], cwd?: string) {
  const { kind, label } = classifyHolder(42, argv, SELF, cwd);
  return { kind, label };
}

function holder(s: LockSample, pid: number): Holder {
  const h = s.holders.find((x) => x.pid === pid);
  assert.ok(h, `PID ${pid} not among holders: ${JSON.stringify(s.holders)}`);
  return h;
}

// ---------------------------------------------------------------- real processes

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

interface Started {
  pid: number;
  port?: number;
  stop(): Promise<void>;
}

/** Starts a process and resolves once it printed `ready PID [PORT]`. */
function start(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((res) => child.on('exit', res));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} not ready after 20 s: ${err}`)), 20000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code} before ready: ${err}`));
    });
    child.stdout.on('data', () => {
      const m = /^ready (\d+)(?: (\d+|-))?$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        pid: child.pid!,
        ...(m[2] && m[2] !== '-' ? { port: Number(m[2]) } : {}),
        async stop() {
          child.stdin.end();
          const code = await exited;
          children.delete(child);
          if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}: ${err}`);
        },
      });
    });
  });
}

/** A TraceForge checkout: <root>/packages/proxy/.ai-tests/traces.db and the proxy's entry files. */
async function checkout(journalMode = 'delete'): Promise<{ root: string; proxyDir: string; db: string }> {
  const root = tempDir('traceforge-');
  const proxyDir = path.join(root, 'packages', 'proxy');
  fs.mkdirSync(path.join(proxyDir, '.ai-tests'), { recursive: true });
  const db = path.join(proxyDir, '.ai-tests', 'traces.db');
  await createTraceDb(db, { rows: 5, journalMode });
  installProxyStandIn(root, proxyDir);
  return { root, proxyDir, db };
}

describe('processNames', () => {
  describe('classifyHolder: the proxy is its entry point, nothing else', () => {
    const cases: [string, string[], string | undefined, string, string][] = [
      ["tsx's node child (pnpm dev)", TSX_ARGV, PROXY_DIR, 'proxy', 'TraceForge proxy'],
      ['node dist/index.js (pnpm start)', ['node', 'dist/index.js'], PROXY_DIR, 'proxy', 'TraceForge proxy'],
      ['the built entry by absolute path', ['/usr/bin/node', '/repo/packages/proxy/dist/index.js'], '/home/me', 'proxy', 'TraceForge proxy'],
      ['the source entry by relative path from the repo', ['node', '--import', 'tsx', 'packages/proxy/src/index.ts'], '/repo', 'proxy', 'TraceForge proxy'],
      ['the installed package', ['node', '/repo/node_modules/.bin/../@traceforge/proxy/dist/index.js'], undefined, 'proxy', 'TraceForge proxy'],
      ['ts-node compiles in process', ['node', '/repo/node_modules/ts-node/dist/bin.js', 'src/index.ts'], PROXY_DIR, 'proxy', 'TraceForge proxy'],
      [
        'a notebook run from packages/proxy with the DB in its argv',
        ['python3', '/repo/packages/proxy/scripts/notebook.py', '/repo/packages/proxy/.ai-tests/traces.db'],
        PROXY_DIR,
        'script',
        'python3 notebook.py',
      ],
      ['a node script given the proxy DB', ['node', 'scripts/dump.js', 'packages/proxy/.ai-tests/traces.db'], '/repo', 'script', 'node dump.js'],
      ['a node script in packages/proxy', ['node', 'scripts/export.js'], PROXY_DIR, 'script', 'node export.js'],
      // Old rule: any argv with packages/proxy (or "traceforge" and "proxy") was the proxy.
      ['another file of the proxy package', ['node', 'packages/proxy/dist/server.js'], undefined, 'script', 'node server.js'],
      ['a file named proxy.js', ['/usr/bin/node', '/home/me/traceforge/proxy.js'], undefined, 'script', 'node proxy.js'],
      ['index.js of another package', ['node', 'dist/index.js'], '/repo/packages/web', 'script', 'node index.js'],
      ['node dist/index.js with no cwd known', ['node', 'dist/index.js'], undefined, 'script', 'node index.js'],
      ['tsx running another script', ['node', '/repo/node_modules/.bin/../tsx/dist/cli.mjs', 'scripts/seed.ts'], PROXY_DIR, 'script', 'tsx seed.ts'],
    ];
    for (const [what, argv, cwd, kind, label] of cases) {
      it(`${what} → ${label}`, () => assert.deepEqual(classify(argv, cwd), { kind, label }));
    }
  });

  describe("classifyHolder: the proxy's launchers", () => {
    const cases: [string[], string | undefined, string][] = [
      [['node', '/repo/node_modules/.bin/../tsx/dist/cli.mjs', 'watch', 'src/index.ts'], PROXY_DIR, 'proxy launcher (tsx watch)'],
      [['node', '/repo/node_modules/.pnpm/tsx@4.19.2/node_modules/tsx/dist/cli.mjs', 'src/index.ts'], PROXY_DIR, 'proxy launcher (tsx)'],
      [['tsx', 'watch', 'src/index.ts'], PROXY_DIR, 'proxy launcher (tsx watch)'],
      [['pnpm', '--filter', '@traceforge/proxy', 'dev'], '/repo', 'proxy launcher (pnpm dev)'],
      [['pnpm', '--filter', '@traceforge/proxy', 'start'], undefined, 'proxy launcher (pnpm start)'],
      [['node', '/usr/local/bin/pnpm', '--filter=@traceforge/proxy', 'run', 'dev'], '/repo', 'proxy launcher (pnpm dev)'],
      [['pnpm', 'run', 'dev'], PROXY_DIR, 'proxy launcher (pnpm dev)'],
      [['npm run start'], PROXY_DIR, 'proxy launcher (npm start)'],
      [['yarn', 'workspace', '@traceforge/proxy', 'dev'], '/repo', 'proxy launcher (yarn dev)'],
      [['sh', '-c', 'tsx watch src/index.ts'], PROXY_DIR, 'proxy launcher (sh -c)'],
      [['node', '/repo/node_modules/nodemon/bin/nodemon.js', 'dist/index.js'], PROXY_DIR, 'proxy launcher (nodemon)'],
    ];
    for (const [argv, cwd, label] of cases) {
      it(`${JSON.stringify(argv)} in ${cwd ?? '?'} → ${label}`, () => assert.deepEqual(classify(argv, cwd), { kind: 'proxy-launcher', label }));
    }

    it('is not a launcher for another script or another package', () => {
      assert.deepEqual(classify(['pnpm', 'run', 'dev'], '/repo/packages/web'), { kind: 'other', label: 'pnpm process' });
      assert.deepEqual(classify(['pnpm', '--filter', '@traceforge/web', 'dev'], '/repo'), { kind: 'other', label: 'pnpm process' });
      assert.deepEqual(classify(['pnpm', '--filter', '@traceforge/proxy', 'test'], '/repo'), { kind: 'test-runner', label: 'test runner (pnpm test)' });
      assert.deepEqual(classify(['node', '/repo/node_modules/.bin/../tsx/dist/cli.mjs', 'watch', 'src/index.ts'], '/repo/packages/web'), {
        kind: 'script',
        label: 'tsx index.ts',
      });
      assert.deepEqual(classify(['bash', '-c', 'python3 notebook.py'], PROXY_DIR), { kind: 'script', label: 'bash -c' });
    });
  });

  describe('classifyHolder: everyone else by their executable', () => {
    const cases: [string[], string, string][] = [
      [['python3', '-u', '/repo/packages/proxy/notebook.py', '--db', 'traces.db'], 'script', 'python3 notebook.py'],
      [['/usr/bin/python3.11', '-W', 'ignore', 'report.py'], 'script', 'python3.11 report.py'],
      [['python3', '-m', 'sqlite3', 'traces.db'], 'script', 'python3 -m sqlite3'],
      [['python', '-um', 'http.server'], 'script', 'python -m http.server'],
      [['/opt/conda/bin/python', '-m', 'ipykernel_launcher', '-f', '/home/me/.local/share/jupyter/runtime/kernel-1.json'], 'script', 'Jupyter kernel'],
      [['python3', '-c', 'import sqlite3; sqlite3.connect("traces.db")'], 'script', 'python3 -c'],
      [['python3'], 'script', 'python3 (interactive)'],
      [['node', '--max-old-space-size=4096', '-r', 'dotenv/config', 'scripts/export.js', 'out.json'], 'script', 'node export.js'],
      [['node', '-e', 'require("sqlite3")'], 'script', 'node -e'],
      [['node'], 'script', 'node (interactive)'],
      [['deno', 'run', '-A', 'scripts/stats.ts'], 'script', 'deno stats.ts'],
      [['bun', 'scripts/stats.ts'], 'script', 'bun stats.ts'],
      [['ruby', 'dump.rb'], 'script', 'ruby dump.rb'],
      [['node', '/work/main/test/fixtures/actor.cjs', 'hold-write', '/tmp/x/traces.db'], 'script', 'node actor.cjs'],
      // A "code" folder in a script's path is not VS Code.
      [['node', '/home/me/code/app/server.js'], 'script', 'node server.js'],
      [['sqlite3', 'packages/proxy/.ai-tests/traces.db'], 'sqlite3-shell', 'sqlite3 shell'],
      [['/usr/bin/sqlite3', '-readonly', 'traces.db'], 'sqlite3-shell', 'sqlite3 shell'],
      [['sqlitebrowser', 'traces.db'], 'db-browser', 'DB Browser for SQLite'],
      [['/Applications/DB Browser for SQLite.app/Contents/MacOS/DB Browser for SQLite'], 'db-browser', 'DB Browser for SQLite'],
      [['vim', 'x.ts'], 'editor', 'editor (vim)'],
      [['/usr/bin/nvim', 'traces.db'], 'editor', 'editor (nvim)'],
      [['emacs', '-nw'], 'editor', 'editor (emacs)'],
      [['/usr/share/code/code', '--type=utility'], 'editor', 'editor (code)'],
      [['/usr/lib/electron/electron', '/usr/lib/code/out/main.js'], 'editor', 'editor (code)'],
      [
        ['/Applications/Visual Studio Code.app/Contents/Frameworks/Code Helper (Plugin).app/Contents/MacOS/Code Helper (Plugin)', '--type=utility'],
        'editor',
        'editor (code)',
      ],
      [['Code - OSS'], 'editor', 'editor (code)'],
      [['/usr/lib/code-server/lib/node', '/usr/lib/code-server/out/node/entry'], 'editor', 'editor (code-server)'],
      [['/home/me/.vscode-server/bin/abc/node', '/home/me/.vscode-server/bin/abc/out/bootstrap-fork', '--type=extensionHost'], 'editor', 'editor (code)'],
      [['/opt/datagrip/bin/datagrip'], 'editor', 'editor (datagrip)'],
      [['java', '-Dide=dbeaver', '-jar', 'plugins/org.eclipse.equinox.launcher.jar'], 'editor', 'editor (dbeaver)'],
      [['node', '/repo/node_modules/.bin/vitest', 'run'], 'test-runner', 'test runner (vitest)'],
      [['node', '/repo/node_modules/jest/bin/jest.js'], 'test-runner', 'test runner (jest)'],
      [['node', '/repo/node_modules/mocha/bin/mocha.js', 'test/unit'], 'test-runner', 'test runner (mocha)'],
      [['node', '--test', 'test/'], 'test-runner', 'test runner (node --test)'],
      // npm rewrites its argv through process.title, so /proc shows one string.
      [['npm test'], 'test-runner', 'test runner (npm test)'],
      [['node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'run', 'test:unit'], 'test-runner', 'test runner (npm test)'],
      [['/usr/local/bin/litestream', 'replicate'], 'other', 'litestream process'],
      [[], 'other', 'unknown process'],
    ];
    for (const [argv, kind, label] of cases) {
      it(`${JSON.stringify(argv)} → ${label}`, () => assert.deepEqual(classify(argv, PROXY_DIR), { kind, label }));
    }

    it('calls its own PID the doctor, whatever its argv says', () => {
      assert.deepEqual(classifyHolder(SELF, TSX_ARGV, SELF, PROXY_DIR), { kind: 'doctor', label: 'Trace DB Doctor (this process)', self: true });
    });

    it("names a process serving the proxy's port the proxy, unless its program says what it is", () => {
      const port = { proxyPort: 9090 };
      assert.deepEqual(classifyHolder(42, ['bun', 'server.js'], SELF, '/srv', port), { kind: 'proxy', label: 'TraceForge proxy (port 9090)', self: false });
      assert.deepEqual(classifyHolder(42, ['/opt/proxy/bin/tf'], SELF, '/srv', port).kind, 'proxy');
      assert.equal(classifyHolder(42, ['/usr/share/code/code'], SELF, '/srv', port).kind, 'editor');
      assert.equal(classifyHolder(42, ['node', '/repo/node_modules/.bin/vitest'], SELF, '/srv', port).kind, 'test-runner');
      assert.equal(classifyHolder(SELF, ['bun', 'server.js'], SELF, '/srv', port).kind, 'doctor');
    });
  });

  describe("the proxy's port", () => {
    it('reads proxy_port from config.yaml, a top-level key', () => {
      assert.equal(parseProxyPort('upstream_url: https://api.openai.com\nproxy_port: 9191 # local\nsave_traces: true\n'), 9191);
      assert.equal(parseProxyPort("proxy_port: '8080'"), 8080);
      assert.equal(parseProxyPort('proxy:\n  proxy_port: 9000\n'), undefined);
      assert.equal(parseProxyPort('proxy_port: 70000'), undefined);
      assert.equal(parseProxyPort(''), undefined);
    });

    it('finds the config in the folder holding the database’s .ai-tests, else uses 8787', async () => {
      assert.equal(proxyDirOf('/repo/packages/proxy/.ai-tests/traces.db'), '/repo/packages/proxy');
      assert.equal(proxyDirOf('/data/traces.db'), undefined);
      const dir = tempDir();
      fs.mkdirSync(path.join(dir, '.ai-tests'));
      const db = path.join(dir, '.ai-tests', 'traces.db');
      assert.equal(await proxyPortFor([db]), DEFAULT_PROXY_PORT);
      fs.writeFileSync(path.join(dir, '.ai-tests', 'config.yaml'), 'proxy_port: 9393\n');
      assert.equal(await proxyPortFor(['/data/traces.db', db]), 9393);
      fs.writeFileSync(path.join(dir, '.ai-tests', 'config.yaml'), 'save_traces: true\n');
      assert.equal(await proxyPortFor([db]), DEFAULT_PROXY_PORT);
    });

    it('reads listening sockets (state 0A) from /proc/net/tcp and tcp6', () => {
      const tcp = [
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        '   0: 0100007F:2253 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41001 1 0000000000000000 100 0 0 10 0',
        '   1: 0100007F:2253 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 41002 1 0000000000000000 20 4 30 10 -1',
        '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41003 1 0000000000000000 100 0 0 10 0',
      ].join('\n');
      const tcp6 =
        '   0: 00000000000000000000000000000000:2253 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41004 1 0 100 0 0 10 0';
      assert.deepEqual(parseListeningInodes(tcp, 0x2253), ['41001']);
      assert.deepEqual(parseListeningInodes(tcp6, 8787), ['41004']);
      assert.deepEqual(parseListeningInodes(tcp, 1), []);
    });
  });

  describe('sampleLocks names real processes in a TraceForge checkout', () => {
    it('a Python notebook run from packages/proxy with the DB in its argv is the blocker, not the proxy', async () => {
      const { proxyDir, db } = await checkout();
      const script = path.join(proxyDir, 'scripts', 'notebook.py');
      fs.mkdirSync(path.dirname(script));
      fs.copyFileSync(path.join(PROCESSES, 'notebook.py'), script);
      const py = await start('python3', [script, db], proxyDir);
      const s = await sampleLocks(db);
      const h = holder(s, py.pid);
      assert.equal(h.kind, 'script');
      assert.equal(h.label, 'python3 notebook.py');
      assert.deepEqual(h.locks, ['RESERVED', 'SHARED']);
      assert.equal(h.blocker, true);
      assert.match(h.command, /packages\/proxy\/scripts\/notebook\.py .*packages\/proxy\/\.ai-tests\/traces\.db$/);
      await py.stop();
    });

    it("tsx's node child running src/index.ts in packages/proxy is the proxy, never the blocker", async () => {
      const { root, proxyDir, db } = await checkout('wal');
      const tsx = path.join(root, 'node_modules', 'tsx', 'dist');
      const argv = ['--require', path.join(tsx, 'preflight.cjs'), '--import', `file://${path.join(tsx, 'loader.mjs')}`, 'src/index.ts'];
      const proxy = await start(process.execPath, argv, proxyDir);
      // A reader beside it: in WAL mode it blocks nobody either.
      const py = await start('python3', ['-c', READER, db], proxyDir);
      const s = await sampleLocks(db);
      const h = holder(s, proxy.pid);
      assert.equal(h.kind, 'proxy');
      assert.equal(h.label, 'TraceForge proxy');
      assert.ok(h.locks.includes('WAL_WRITE'), JSON.stringify(h.locks));
      assert.equal(h.blocker, false);
      const reader = holder(s, py.pid);
      assert.deepEqual([reader.kind, reader.label, reader.blocker], ['script', 'python3 -c', false]);
      await Promise.all([proxy.stop(), py.stop()]);
    });

    it('node dist/index.js in packages/proxy is the proxy, also from lsof when there is no /proc', async () => {
      const { proxyDir, db } = await checkout();
      const proxy = await start(process.execPath, ['dist/index.js'], proxyDir);
      const s = await sampleLocks(db);
      assert.deepEqual([holder(s, proxy.pid).kind, holder(s, proxy.pid).blocker], ['proxy', false]);
      // Without /proc the cwd comes from lsof.
      const viaLsof = await sampleLocks(db, { procRoot: tempDir('noproc-') });
      assert.equal(viaLsof.source, 'lsof');
      assert.equal(holder(viaLsof, proxy.pid).kind, 'proxy');
      await proxy.stop();
    });

    it("a process serving config.yaml's proxy_port is the proxy; on another port it is the blocker", async () => {
      const { proxyDir, db } = await checkout();
      // Run by a name no argv rule knows, from outside packages/proxy.
      const server = await start(process.execPath, [path.join(PROCESSES, 'proxyEntry.cjs')], tempDir(), { PORT: '0', TRACEFORGE_SQLITE_PATH: db });
      assert.ok(server.port);
      const config = path.join(proxyDir, '.ai-tests', 'config.yaml');
      fs.writeFileSync(config, `upstream_url: http://127.0.0.1:1\nproxy_port: ${server.port}\nsave_traces: true\n`);
      const s = await sampleLocks(db);
      assert.deepEqual(
        { kind: holder(s, server.pid).kind, label: holder(s, server.pid).label, blocker: holder(s, server.pid).blocker },
        { kind: 'proxy', label: `TraceForge proxy (port ${server.port})`, blocker: false },
      );
      fs.writeFileSync(config, `proxy_port: ${server.port === 1 ? 2 : server.port - 1}\n`);
      const other = holder(await sampleLocks(db), server.pid);
      assert.deepEqual([other.kind, other.label, other.blocker], ['script', 'node proxyEntry.cjs', true]);
      // The option overrides the config.
      assert.equal(holder(await sampleLocks(db, { proxyPort: server.port }), server.pid).kind, 'proxy');
      await server.stop();
    });
  });
});

/** A Python reader in WAL mode: BEGIN + SELECT, held until stdin closes. */
const READER = [
  'import os, sqlite3, sys',
  'db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)',
  'db.execute("BEGIN")',
  'db.execute("SELECT count(*) FROM traces").fetchone()',
  'print(f"ready {os.getpid()}", flush=True)',
  'sys.stdin.read()',
  'db.execute("ROLLBACK")',
].join('\n');
