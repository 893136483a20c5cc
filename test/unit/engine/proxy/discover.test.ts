// Finding the database the way the real proxy does, reading its real log, and restarting
// it with a command that works: on a checkout shaped like TraceForge (TRACEFORGE.md).
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoverDatabases, logPathFor, parseDotenv } from '../../../../src/engine/proxy/discover';
import { launchersOf } from '../../../../src/engine/repair/kill';
import { nodeEntryOf, proxyEnvOf, proxyLaunch } from '../../../../src/engine/proxy/proxyLaunch';
import { createTraceDb, installProxyStandIn, REPO, startActor, tempDir } from '../../../support/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeTraceforgeRepo } = require('../../../fixtures/traceforgeRepo.cjs') as {
  writeTraceforgeRepo(
    root: string,
    opts?: { built?: boolean; scripts?: Record<string, string>; port?: number },
  ): { root: string; proxyDir: string; db: string; logDir: string };
};
const LOGS = path.join(REPO, 'test', 'fixtures', 'logs');

/** The proxy as `pnpm dev` runs it: tsx's node child with cwd packages/proxy (test/fixtures/processes stand-ins). */
function startTsxProxy(root: string, proxyDir: string, env: NodeJS.ProcessEnv = {}): Promise<{ pid: number; stop(): void }> {
  const tsxDist = installProxyStandIn(root, proxyDir);
  const child = spawn(
    process.execPath,
    ['--require', path.join(tsxDist, 'preflight.cjs'), '--import', `file://${path.join(tsxDist, 'loader.mjs')}`, 'src/index.ts'],
    {
      cwd: proxyDir,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (/^ready \d+/m.test(out)) resolve({ pid: child.pid!, stop: () => child.kill('SIGKILL') });
    });
    child.once('exit', (code) => reject(new Error(`proxy stand-in exited ${code}`)));
  });
}

describe('discover: the database the proxy uses', () => {
  it('from the repository root, finds packages/proxy/.ai-tests/traces.db (the proxy runs in packages/proxy)', async () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'));
    await createTraceDb(repo.db, { rows: 5 });
    const found = await discoverDatabases(repo.root);
    assert.equal(found[0].dbPath, repo.db);
    assert.equal(found[0].exists, true);
    assert.equal(found[0].source, 'proxy-dir');
    assert.equal(found[0].proxyDir, repo.proxyDir);
    assert.equal(found[0].logPath, path.join(repo.proxyDir, 'logs', 'proxy.log'), 'where Restart Proxy keeps the log');
    assert.equal(found[0].logExists, false, 'the proxy logs to stdout');
    // The root's .ai-tests is still a candidate (missing), after the one that exists.
    assert.ok(found.some((c) => c.dbPath === path.join(repo.root, '.ai-tests', 'traces.db') && !c.exists));
  });

  it('with both files there, prefers the one the running proxy has open, and names its PID', async () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'));
    const rootDb = path.join(repo.root, '.ai-tests', 'traces.db');
    fs.mkdirSync(path.dirname(rootDb));
    await createTraceDb(repo.db, { rows: 5 });
    await createTraceDb(rootDb, { rows: 5 });
    // TRACEFORGE_SQLITE_PATH in the proxy's own environment points at the root's DB.
    const proxy = await startTsxProxy(repo.root, repo.proxyDir, { TRACEFORGE_SQLITE_PATH: '../../.ai-tests/traces.db' });
    try {
      const found = await discoverDatabases(repo.root);
      assert.equal(found[0].dbPath, rootDb);
      assert.deepEqual(found[0].openByProxy, [proxy.pid]);
      assert.equal(found[0].source, 'proxy-open');
      assert.ok(
        found.some((c) => c.dbPath === repo.db && c.openByProxy.length === 0),
        'the other file is still listed',
      );
      assert.equal(proxyEnvOf(proxy.pid).TRACEFORGE_SQLITE_PATH, '../../.ai-tests/traces.db', "a restart keeps the proxy's settings");
    } finally {
      proxy.stop();
    }
  });

  it("reads TRACEFORGE_SQLITE_PATH from a .env file, relative to the proxy's folder; skips node_modules; finds others", async () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'));
    fs.writeFileSync(path.join(repo.proxyDir, '.env'), '# local\nTRACEFORGE_STORAGE_BACKEND=sqlite\nexport TRACEFORGE_SQLITE_PATH="data/traces.db" # here\n');
    fs.mkdirSync(path.join(repo.proxyDir, 'data'));
    await createTraceDb(path.join(repo.proxyDir, 'data', 'traces.db'), { rows: 3 });
    for (const dir of ['node_modules/pkg', 'apps/worker']) {
      fs.mkdirSync(path.join(repo.root, dir, '.ai-tests'), { recursive: true });
      await createTraceDb(path.join(repo.root, dir, '.ai-tests', 'traces.db'), { rows: 1 });
    }
    const found = await discoverDatabases(repo.root);
    assert.equal(found[0].dbPath, path.join(repo.proxyDir, 'data', 'traces.db'));
    assert.equal(found[0].source, 'env');
    assert.ok(found.some((c) => c.dbPath === path.join(repo.root, 'apps', 'worker', '.ai-tests', 'traces.db') && c.source === 'found'));
    assert.ok(!found.some((c) => c.dbPath.includes('node_modules')));
    assert.deepEqual(
      [...parseDotenv("A='x y'\nB=2 # c\n#C=3").entries()],
      [
        ['A', 'x y'],
        ['B', '2'],
      ],
    );
  });

  it('the log lives beside the folder the proxy runs in, never packages/proxy/packages/proxy', () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'));
    fs.mkdirSync(repo.logDir);
    fs.copyFileSync(path.join(LOGS, 'proxy-pretty.log'), path.join(repo.logDir, 'error.log'));
    assert.deepEqual(logPathFor(repo.db), { logPath: path.join(repo.logDir, 'error.log'), logExists: true });
    // A DB at the root of a repo that has the proxy package: that package's log.
    assert.equal(logPathFor(path.join(repo.root, '.ai-tests', 'traces.db')).logPath, path.join(repo.logDir, 'error.log'));
  });
});

describe('proxyLaunch: a restart command that works', () => {
  it('uses dev when start would run a dist/index.js that is not built, start once it is', () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'));
    const dev = proxyLaunch(repo.root, repo.proxyDir, { keepLog: false });
    assert.equal(dev.script, 'dev');
    assert.equal(dev.command, 'pnpm --filter @traceforge/proxy dev');
    assert.match(dev.reason, /dist\/index\.js is not built yet/);
    writeTraceforgeRepo(repo.root, { built: true });
    const start = proxyLaunch(repo.root, repo.proxyDir, { keepLog: false });
    assert.equal(start.script, 'start');
    assert.equal(start.command, 'pnpm --filter @traceforge/proxy start');
  });

  it('builds first when there is no dev script; keeps the output in logs/proxy.log; the setting wins', () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'), { scripts: { build: 'tsc', start: 'node dist/index.js' } });
    const l = proxyLaunch(repo.root, repo.proxyDir, { platform: 'linux' });
    assert.equal(l.script, 'build+start');
    assert.match(
      l.command,
      /^mkdir -p \S+\/logs && \{ pnpm --filter @traceforge\/proxy build && pnpm --filter @traceforge\/proxy start; \} 2>&1 \| tee -a \S+\/packages\/proxy\/logs\/proxy\.log$/,
    );
    assert.equal(l.logPath, path.join(repo.proxyDir, 'logs', 'proxy.log'));
    const custom = proxyLaunch(repo.root, repo.proxyDir, { custom: 'make proxy', keepLog: false });
    assert.deepEqual([custom.script, custom.command], ['custom', 'make proxy']);
    const none = proxyLaunch(repo.root, path.join(repo.root, 'nowhere'), { keepLog: false });
    assert.ok(none.command.length > 0, 'falls back to packages/proxy of the repository');
    assert.equal(nodeEntryOf('node --enable-source-maps dist/index.js'), 'dist/index.js');
  });

  it('the tee really keeps the output: a shell runs the command and the log fills', async () => {
    const repo = writeTraceforgeRepo(tempDir('traceforge-'), { scripts: { start: 'node start.cjs' } });
    fs.writeFileSync(path.join(repo.proxyDir, 'start.cjs'), "console.log('[04:35:58 UTC] ERROR: database is locked');\n");
    fs.rmSync(path.join(repo.root, 'pnpm-lock.yaml'));
    fs.rmSync(path.join(repo.root, 'pnpm-workspace.yaml'));
    const l = proxyLaunch(repo.root, repo.proxyDir, { platform: 'linux' });
    assert.match(l.command, /npm run start -w packages\/proxy/);
    await new Promise<void>((resolve, reject) =>
      execFile('/bin/sh', ['-c', l.command.replace('npm run start -w packages/proxy', 'node packages/proxy/start.cjs')], { cwd: repo.root }, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    assert.match(fs.readFileSync(l.logPath!, 'utf8'), /database is locked/);
  });

  it('finds the launchers above the proxy (tsx watch, pnpm) so a restart stops them too', async () => {
    const proc = tempDir('proc-');
    const mk = (pid: number, ppid: number, argv: string[], cwd = '/repo/packages/proxy') => {
      fs.mkdirSync(path.join(proc, String(pid)));
      fs.writeFileSync(path.join(proc, String(pid), 'stat'), `${pid} (node) S ${ppid} 1 1 0 -1`);
      fs.writeFileSync(path.join(proc, String(pid), 'cmdline'), argv.join('\0') + '\0');
      fs.symlinkSync(cwd, path.join(proc, String(pid), 'cwd'));
    };
    mk(100, 1, ['bash']);
    mk(200, 100, ['node', '/usr/lib/node_modules/pnpm/bin/pnpm.cjs', '--filter', '@traceforge/proxy', 'dev'], '/repo');
    mk(300, 200, ['node', '/repo/node_modules/.bin/../tsx/dist/cli.mjs', 'watch', 'src/index.ts']);
    mk(400, 300, [
      'node',
      '--require',
      '/repo/node_modules/tsx/dist/preflight.cjs',
      '--import',
      'file:///repo/node_modules/tsx/dist/loader.mjs',
      'src/index.ts',
    ]);
    assert.deepEqual(launchersOf(400, [], proc), [300, 200]);
    assert.deepEqual(launchersOf(400, [200], proc), [300], 'never a protected process');
    const w = await startActor(
      'open',
      await (async () => {
        const r = writeTraceforgeRepo(tempDir('traceforge-'));
        await createTraceDb(r.db, { rows: 1 });
        return r.db;
      })(),
    );
    assert.deepEqual(launchersOf(w.pid), [], 'a test process has no proxy launcher above it');
    await w.stop();
  });
});
