// The doctor server as the extension starts it: dist/server.js in its own process,
// spoken to over a real IPC JSON-RPC connection.
import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createProtocolConnection, InitializeRequest, IPCMessageReader, IPCMessageWriter, type ProtocolConnection } from 'vscode-languageserver-protocol/node';
import * as proto from '../../src/shared/protocol';

// Not from helpers.ts: that registers mocha hooks, and the bench starts servers too.
const REPO = path.resolve(__dirname, '../..');
const SERVER = path.join(REPO, 'dist', 'server.js');

export interface Server {
  child: ChildProcess;
  conn: ProtocolConnection;
  changes: proto.HealthChangedParams[];
  /** dataChanged notifications, as they came. */
  data: proto.DataChangedParams[];
  stderr: () => string;
  close(): Promise<void>;
}

export async function startServer(workspaceFolder?: string, serverJs = SERVER): Promise<Server> {
  assert.ok(fs.existsSync(serverJs), 'dist/server.js is built by `npm run build` (npm test builds first)');
  // execArgv: [] as the extension starts it; the test runner's tsx loader is not the server's.
  const child = fork(serverJs, ['--node-ipc'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const conn = createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  const changes: proto.HealthChangedParams[] = [];
  conn.onNotification(proto.healthChanged, (p) => changes.push(p));
  const data: proto.DataChangedParams[] = [];
  conn.onNotification(proto.dataChanged, (p) => data.push(p));
  conn.onNotification('window/logMessage', () => undefined);
  conn.listen();
  await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
    workspaceFolders: workspaceFolder ? [{ uri: `file://${workspaceFolder}`, name: 'ws' }] : null,
  });
  await conn.sendNotification('initialized', {});
  return {
    child,
    conn,
    changes,
    data,
    stderr: () => err,
    async close() {
      if (child.exitCode !== null) return;
      await conn.sendRequest('shutdown').catch(() => undefined);
      await conn.sendNotification('exit').catch(() => undefined);
      await new Promise<void>((res) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          res();
        }, 3000);
        child.once('exit', () => {
          clearTimeout(t);
          res();
        });
      });
      conn.dispose();
    },
  };
}
