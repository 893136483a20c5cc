// The doctor server as the extension starts it: dist/server.js in its own process,
// spoken to over a real IPC JSON-RPC connection.
import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createProtocolConnection,
  InitializeRequest,
  IPCMessageReader,
  IPCMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import * as proto from '../../src/protocol';
import { REPO } from './helpers';

const SERVER = path.join(REPO, 'dist', 'server.js');

export interface Server {
  child: ChildProcess;
  conn: ProtocolConnection;
  changes: proto.HealthChangedParams[];
  stderr: () => string;
  close(): Promise<void>;
}

export async function startServer(workspaceFolder?: string): Promise<Server> {
  assert.ok(fs.existsSync(SERVER), 'dist/server.js is built by `npm run build` (npm test builds first)');
  const child = fork(SERVER, ['--node-ipc'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const conn = createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  const changes: proto.HealthChangedParams[] = [];
  conn.onNotification(proto.healthChanged, (p) => changes.push(p));
  conn.onNotification('window/logMessage', () => undefined);
  conn.listen();
  await conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: workspaceFolder ? [{ uri: `file://${workspaceFolder}`, name: 'ws' }] : null });
  await conn.sendNotification('initialized', {});
  return {
    child,
    conn,
    changes,
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

