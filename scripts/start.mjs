// `npm start`: the extension in a real VS Code (code-server) on a demo TraceForge repo.
//   npm start [-- --port N] [--workspace DIR] [--no-writer]
// Builds the VSIX, installs the toolchain once into .tools/ (saying what, how big, how
// long, and how far every ~10 s), makes the demo workspace in .demo/workspace (unless
// --workspace), starts its proxy as a user would (`pnpm --filter @traceforge/proxy start`,
// output kept in packages/proxy/logs/proxy.log), and serves VS Code on 127.0.0.1 until
// Ctrl-C; every process it started is stopped then.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installVsix, makeProfile, startCodeServer } from './lib/codeServer.mjs';
import { createDemoWorkspace } from './lib/demoWorkspace.mjs';
import { bytes, duration, Progress, runWatched } from './lib/progress.mjs';
import { cleanNpmEnv, ensureToolchainWithProgress, REPO, ToolchainError } from './lib/toolchain.mjs';

const USAGE = 'usage: npm start [-- --port N] [--workspace DIR] [--no-writer]';

function parse(argv) {
  const o = { port: undefined, workspace: undefined, writer: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--workspace') o.workspace = path.resolve(argv[++i] ?? '');
    else if (a === '--no-writer') o.writer = false;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown option ${a}; ${USAGE}`);
      process.exit(2);
    }
  }
  if (o.port !== undefined && !(o.port > 0 && o.port < 65536)) {
    console.error('--port takes a TCP port number');
    process.exit(2);
  }
  return o;
}

const opts = parse(process.argv.slice(2));
/** Process groups we started (the proxy and what pnpm ran under it). */
const groups = [];
let codeServer;
let stopping = false;

async function cleanup() {
  for (const c of groups) {
    if (c.exitCode !== null) continue;
    try {
      process.kill(-c.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await codeServer?.stop();
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopping = true;
    console.log('\nStopping…');
    void cleanup().then(() => process.exit(0));
  });
}

/**
 * The environment of what we launch: without the npm_* variables and node_modules/.bin
 * folders `npm start` put there, with .tools' Node 24 and pnpm first on PATH, so that a
 * task's shell in code-server (Run Verification: `pnpm --filter @traceforge/proxy test
 * storage-sqlite`, Restart Proxy) finds pnpm and the node it runs with.
 */
function launchEnv(tools) {
  const env = cleanNpmEnv(process.env);
  env.PATH = [tools.node24Bin, tools.pnpmBin, env.PATH].filter(Boolean).join(path.delimiter);
  // VS Code's server otherwise replaces its environment, for the extension host and so for
  // every task and terminal, with the one a login shell prints (`bash -ilc env`): /etc/profile
  // resets PATH and pnpm is gone ("pnpm: command not found", exit 127). VSCODE_CLI=1 says
  // "started from a shell already" (resolveShellEnv is skipped; nothing else reads it).
  env.VSCODE_CLI = '1';
  return env;
}

/** The demo proxy, started as a user would, its stdout and stderr appended to its log (like `| tee -a`). */
function startProxy(demo, tools, env) {
  const [cmd, args, cwd] = fs.existsSync(path.join(tools.pnpmBin, 'pnpm'))
    ? ['pnpm', ['--filter', '@traceforge/proxy', 'start'], demo.dir]
    : ['node', ['dist/index.js'], demo.proxyDir];
  const log = fs.openSync(demo.logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  groups.push(child);
  return { child, command: `${cmd} ${args.join(' ')}` };
}

const steps = opts.workspace ? 4 : 5;
const progress = new Progress({ steps });
progress.say(`Trace DB Doctor: npm start, ${steps} steps`);

try {
  progress.step('Building the extension and its VSIX (esbuild, then vsce package): about 15 s');
  fs.mkdirSync(path.join(REPO, '.demo'), { recursive: true });
  let packaged;
  const build = await runWatched('npm', ['run', '--silent', 'package'], {
    cwd: REPO,
    logFile: path.join(REPO, '.demo', 'build.log'),
    say: (l) => progress.say(l),
    onLine: (l) => {
      const m = /Packaged: (.*)$/.exec(l);
      if (m) packaged = m[1].split(`${REPO}${path.sep}`).join('');
    },
    status: () => 'building',
  }).catch((e) => ({ code: -1, tail: [String(e)] }));
  if (build.code !== 0) throw new Error(`npm run package failed (exit ${build.code}):\n${build.tail.slice(-15).join('\n')}\nFull output: .demo/build.log`);
  const vsix = path.join(REPO, 'tracedb-doctor.vsix');
  progress.done(packaged ?? `tracedb-doctor.vsix, ${bytes(fs.statSync(vsix).size)}`);

  const tools = await ensureToolchainWithProgress(progress, { chromium: false });
  const env = launchEnv(tools);

  let workspace = opts.workspace;
  let demo;
  if (!workspace) {
    workspace = path.join(REPO, '.demo', 'workspace');
    progress.step(
      `Creating the demo TraceForge repo in ${path.relative(REPO, workspace)}: a trace DB of 2000 traces in rollback-journal mode, the proxy's log, storage code without the pragmas`,
    );
    demo = await createDemoWorkspace(workspace);
    progress.done(`${path.relative(workspace, demo.db)} (${bytes(fs.statSync(demo.db).size)}), ${path.relative(workspace, demo.logFile)}`);
  } else if (!fs.existsSync(workspace)) throw new Error(`--workspace ${workspace} does not exist`);

  progress.step('Installing the VSIX into a fresh VS Code profile in .demo/profile: about 5 s');
  const profile = makeProfile(path.join(REPO, '.demo', 'profile'), { trusted: true });
  installVsix(tools, profile, vsix);
  progress.done();

  progress.step(`Starting ${demo && opts.writer ? 'the demo proxy and ' : ''}code-server (VS Code 1.139 on Node ${tools.nodeVersion}): a few seconds`);
  if (demo && opts.writer) {
    const proxy = startProxy(demo, tools, env);
    progress.detail(
      `proxy: \`${proxy.command}\` (PID ${proxy.child.pid}) stores 20 traces/s; its output goes to ${path.relative(workspace, demo.logFile)} (--no-writer to skip)`,
    );
  }
  const logFile = path.join(REPO, '.demo', 'code-server.log');
  codeServer = await startCodeServer(tools, profile, { port: opts.port, logFile, baseEnv: env });
  progress.detail(`tasks and terminals find node ${tools.nodeVersion} and pnpm in .tools first on PATH`);
  progress.done();

  console.log(`\nTrace DB Doctor is running in VS Code (code-server 4.139.1), ready in ${progress.elapsed()}:\n\n    ${codeServer.folderUrl(workspace)}\n`);
  console.log(`Open it in a browser. Logs: ${path.relative(process.cwd(), logFile)}. Ctrl-C stops everything.`);
  await new Promise((res) => codeServer.proc.once('exit', res));
  if (stopping) await new Promise(() => {}); // the signal handler exits once all is stopped
  console.log('code-server exited.');
  await cleanup();
} catch (e) {
  console.error(`\nnpm start failed after ${duration(Date.now() - progress.started)}: ${e instanceof ToolchainError ? e.message : (e && e.stack) || e}`);
  await cleanup();
  process.exit(1);
}
