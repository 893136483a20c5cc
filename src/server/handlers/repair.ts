// Requests that change something: the runbook's fixes (WAL, checkpoint, backup, integrity),
// killing a blocker, stopping and relaunching the proxy, and the concurrent write test.
// After each, the database's watcher looks again at once so the views show the result.
import * as path from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import {
  backupDatabase,
  checkpoint,
  concurrencyCheck,
  enableWal,
  integrityCheck,
  killHolder,
  proxyEnvOf,
  proxyFolderOf,
  proxyLaunch,
  sampleLocks,
  stopProxy,
} from '../../engine';
import * as proto from '../../shared/protocol';
import type { Handler } from '../handle';
import type { Watchers } from '../watchers';

export function registerRepairHandlers(connection: Connection, handler: Handler, watchers: Watchers): void {
  connection.onRequest(proto.enableWal, (params, token) =>
    handler.run(`enableWal ${params.dbPath}`, () =>
      handler.withProgress(params.workDoneToken, 'Enabling WAL', async (onProgress) => {
        // Cancel from the progress notification: between tries, or during the backup after the switch.
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          const { timeoutMs, backup, force } = params;
          return await enableWal(params.dbPath, { timeoutMs, backup, force, onProgress, signal: abort.signal });
        } finally {
          sub.dispose();
          watchers.recheck(params.dbPath);
        }
      }),
    ),
  );

  connection.onRequest(proto.checkpoint, (params) =>
    handler.run(`checkpoint ${params.mode} ${params.dbPath}`, async () => {
      const result = await checkpoint(params.dbPath, params.mode);
      watchers.recheck(params.dbPath);
      return result;
    }),
  );

  connection.onRequest(proto.backup, (params) =>
    handler.run(`backup ${params.dbPath}`, () =>
      handler.withProgress(params.workDoneToken, 'Backing up', (onProgress) => backupDatabase(params.dbPath, { out: params.out, onProgress })),
    ),
  );

  connection.onRequest(proto.integrity, (params) =>
    handler.run(`integrity ${params.dbPath}`, () =>
      handler.withProgress(params.workDoneToken, 'Checking integrity', (onProgress) => integrityCheck(params.dbPath, { onProgress })),
    ),
  );

  connection.onRequest(proto.kill, (params) =>
    handler.run(`kill ${params.signal} ${params.pid}`, async () => {
      const result = await killHolder(params.dbPath, params.pid, params.signal, params.protectedPids);
      watchers.recheck(params.dbPath);
      return result;
    }),
  );

  connection.onRequest(proto.stopProxy, (params) =>
    handler.run(`stopProxy ${params.dbPath}`, async () => {
      const result = await stopProxy(params.dbPath, params.protectedPids);
      watchers.recheck(params.dbPath);
      return result;
    }),
  );

  connection.onRequest(proto.proxyLaunch, (params) =>
    handler.run(`proxyLaunch ${params.dbPath}`, async () => {
      const launch = proxyLaunch(params.root, proxyFolderOf(path.resolve(params.dbPath)), { custom: params.custom, keepLog: params.keepLog });
      // The running proxy's settings (which backend, which DB) must survive the restart.
      const sample = await sampleLocks(path.resolve(params.dbPath));
      const proxy = sample.holders.find((h) => h.kind === 'proxy');
      const env = proxy ? proxyEnvOf(proxy.pid) : {};
      return Object.keys(env).length ? { ...launch, env } : launch;
    }),
  );

  connection.onRequest(proto.verifyConcurrency, (params) =>
    handler.run(`verifyConcurrency ${params.dbPath}`, () =>
      handler.withProgress(params.workDoneToken, 'Concurrent write test', (onProgress) =>
        concurrencyCheck(path.resolve(params.dbPath), {
          writers: params.writers,
          seconds: params.seconds,
          // dist/writer.js, bundled beside this server.
          writerScript: path.join(__dirname, 'writer.js'),
          onProgress,
        }),
      ),
    ),
  );
}
