// Requests that look: the watch list, health checks, the report, who holds the file,
// and which databases a folder has. None of them writes to the database.
import * as path from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import { discoverDatabases, sampleLocks } from '../../engine';
import { formatReport } from '../../shared/reportText';
import * as proto from '../../shared/protocol';
import type { Handler } from '../handle';
import type { Watchers } from '../watchers';

export function registerHealthHandlers(connection: Connection, handler: Handler, watchers: Watchers, onMinBusyTimeout: (ms: number) => void): void {
  connection.onRequest(proto.watchInterest, (params) => handler.run('watchInterest', async () => watchers.setInterest(params)));

  connection.onRequest(proto.watch, (params) =>
    handler.run('watch', async () => {
      if (params.minBusyTimeoutMs !== undefined) onMinBusyTimeout(params.minBusyTimeoutMs);
      watchers.watch(params);
    }),
  );

  connection.onRequest(proto.discover, (params) => handler.run(`discover ${params.root}`, () => discoverDatabases(params.root)));

  connection.onRequest(proto.health, (params) =>
    handler.run(`health ${params.mode} ${params.dbPath}`, async () => {
      const { inspector, watcher } = watchers.inspectorFor(params.dbPath, params.logPath);
      const report = await inspector.check({ mode: params.mode, countExact: params.countExact, integrity: params.integrity });
      // With the lock monitor's figures and findings, as the watcher's own reports carry them.
      return watcher?.publish(report) ?? report;
    }),
  );

  connection.onRequest(proto.report, (params) =>
    handler.run(`report ${params.dbPath}`, async () => {
      const { inspector, watcher } = watchers.inspectorFor(params.dbPath, params.logPath);
      const checked = await inspector.check({ mode: 'full' });
      const report = watcher?.publish(checked) ?? checked;
      return { report, markdown: formatReport(report, { markdown: true }) };
    }),
  );

  connection.onRequest(proto.holders, (params) => handler.run(`holders ${params.dbPath}`, () => sampleLocks(path.resolve(params.dbPath))));
}
