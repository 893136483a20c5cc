// Starts code-server (a real VS Code, 1.139) on a free loopback port with its own
// user-data and extensions folders, installs our VSIX, and stops everything it started.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function codeServerArgs(tools, dirs) {
  return [tools.codeServerEntry, '--config', dirs.config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
}

/** A fresh profile under `root`; `trusted: true` turns workspace trust off, as a trusted user would. */
export function makeProfile(root, { trusted = true, settings = {} } = {}) {
  const dirs = { config: path.join(root, 'config.yaml'), userData: path.join(root, 'user-data'), extensions: path.join(root, 'extensions') };
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.mkdirSync(dirs.extensions, { recursive: true });
  fs.writeFileSync(dirs.config, 'auth: none\n');
  fs.writeFileSync(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'security.workspace.trust.enabled': !trusted,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'workbench.enableExperiments': false,
        // Keep the window about the task: no chat panel, no git prompt for the parent repo.
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'git.openRepositoryInParentFolders': 'never',
        'git.enabled': false,
        ...settings,
      },
      null,
      2,
    ),
  );
  return dirs;
}

export function installVsix(tools, dirs, vsix) {
  const r = spawnSync(tools.node24, [...codeServerArgs(tools, dirs), '--install-extension', vsix, '--force'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`code-server --install-extension failed (exit ${r.status}): ${r.stderr || r.stdout}`);
}

/** The folder an installed extension lives in, as code-server recorded it in the profile's extensions.json. */
export function installedExtensionDir(dirs, id) {
  const installed = JSON.parse(fs.readFileSync(path.join(dirs.extensions, 'extensions.json'), 'utf8'));
  const entry = installed.find((e) => e.identifier?.id?.toLowerCase() === id.toLowerCase());
  if (!entry) throw new Error(`${id} is not installed in ${dirs.extensions}`);
  return entry.location?.fsPath ?? path.join(dirs.extensions, entry.relativeLocation);
}

/**
 * Starts code-server and resolves once it answers /healthz.
 * `env` reaches the extension host and its terminals (PATH with pnpm, for the demo), on
 * top of `baseEnv` (default: this process's environment).
 */
export async function startCodeServer(tools, dirs, { port, env = {}, baseEnv = process.env, logFile, extraArgs = [] } = {}) {
  port ??= await freePort();
  const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const proc = spawn(
    tools.node24,
    [
      ...codeServerArgs(tools, dirs),
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      ...extraArgs,
    ],
    { env: { ...baseEnv, ...env }, stdio: ['ignore', out, out], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((res) => proc.once('exit', res));
  const deadline = Date.now() + 60000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode}${logFile ? `; see ${logFile}` : ''}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer on ${url} within 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    proc,
    folderUrl: (folder) => `${url}/?folder=${encodeURIComponent(folder)}`,
    async stop() {
      if (proc.exitCode !== null) return;
      // The whole process group: code-server, its extension hosts, our doctor server.
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Extension host logs of a profile, for a failing test to point at. */
export function extensionHostLogs(dirs) {
  const logs = path.join(dirs.userData, 'logs');
  const found = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/exthost|remoteexthost|Trace DB Doctor|tracedb/i.test(p)) found.push(p);
    }
  };
  walk(logs);
  return found;
}
