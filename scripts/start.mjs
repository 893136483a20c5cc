// `npm start`: the extension in a real VS Code (code-server) on a demo TraceForge repo.
//   npm start [-- --port N] [--workspace DIR] [--no-writer]
// Builds the VSIX, installs the toolchain once into .tools/, makes the demo workspace in
// .demo/workspace (unless --workspace), starts the stand-in proxy writing traces, and
// serves VS Code on 127.0.0.1 until Ctrl-C; every process it started is stopped then.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installVsix, makeProfile, startCodeServer } from './lib/codeServer.mjs';
import { createDemoWorkspace } from './lib/demoWorkspace.mjs';
import { ensureToolchain, REPO, ToolchainError } from './lib/toolchain.mjs';

function parse(argv) {
  const o = { port: undefined, workspace: undefined, writer: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--workspace') o.workspace = path.resolve(argv[++i] ?? '');
    else if (a === '--no-writer') o.writer = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm start [-- --port N] [--workspace DIR] [--no-writer]');
      process.exit(0);
    } else {
      console.error(`unknown option ${a}; usage: npm start [-- --port N] [--workspace DIR] [--no-writer]`);
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
const children = [];
let codeServer;

async function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await codeServer?.stop();
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.log('\nStopping…');
    void cleanup().then(() => process.exit(0));
  });
}

try {
  console.log('Building the extension and its VSIX…');
  const pkg = spawnSync('npm', ['run', '--silent', 'package'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  if (pkg.status !== 0) throw new Error('npm run package failed; see above.');
  const tools = ensureToolchain({ chromium: false });

  let workspace = opts.workspace;
  let demo;
  if (!workspace) {
    workspace = path.join(REPO, '.demo', 'workspace');
    console.log(`Creating the demo workspace in ${path.relative(REPO, workspace)}…`);
    demo = await createDemoWorkspace(workspace);
  } else if (!fs.existsSync(workspace)) throw new Error(`--workspace ${workspace} does not exist`);

  const profile = makeProfile(path.join(REPO, '.demo', 'profile'), { trusted: true });
  installVsix(tools, profile, path.join(REPO, 'tracedb-doctor.vsix'));

  if (demo && opts.writer) {
    const proxy = spawn(demo.proxyStart.cmd, demo.proxyStart.args, { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(proxy);
    console.log(`Stand-in proxy (PID ${proxy.pid}) writes 20 traces/s into the demo DB (--no-writer to skip).`);
  }
  const logFile = path.join(REPO, '.demo', 'code-server.log');
  codeServer = await startCodeServer(tools, profile, {
    port: opts.port,
    logFile,
    env: { PATH: `${tools.pnpmBin}${path.delimiter}${process.env.PATH}` },
  });
  console.log(`\nTrace DB Doctor is running in VS Code ${'(code-server 4.139.1)'}:\n\n    ${codeServer.folderUrl(workspace)}\n`);
  console.log(`Open it in a browser. Logs: ${path.relative(process.cwd(), logFile)}. Ctrl-C stops everything.`);
  await new Promise((res) => codeServer.proc.once('exit', res));
  console.log('code-server exited.');
  await cleanup();
} catch (e) {
  console.error(`\nnpm start failed: ${e instanceof ToolchainError ? e.message : (e && e.stack) || e}`);
  await cleanup();
  process.exit(1);
}
