// The storage-code lint over a real LSP connection to dist/server.js: workspace scan,
// diagnostics as a document changes, quick fixes applied until nothing is left.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CodeActionRequest, PublishDiagnosticsNotification, type CodeAction, type Diagnostic } from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { lintSource } from '../../../src/lint/pragmaLint';
import * as proto from '../../../src/shared/protocol';
import { tempDir, waitFor } from '../../support/helpers';
import { startServer, type Server } from '../../support/serverHarness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { STORAGE_TS: STORAGE } = require('../../fixtures/suiteWorkspace.cjs') as { STORAGE_TS: string };

describe('storage lint over LSP', () => {
  let server: Server;
  let root: string;
  const diags = new Map<string, Diagnostic[]>();

  before(async () => {
    root = tempDir('tracedb-lint-');
    fs.mkdirSync(path.join(root, 'packages', 'proxy', 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'packages', 'proxy', 'src', 'storage-sqlite.ts'), STORAGE);
    // Dependencies are not the user's code: never linted.
    fs.mkdirSync(path.join(root, 'node_modules', 'dep'), { recursive: true });
    fs.writeFileSync(path.join(root, 'node_modules', 'dep', 'index.ts'), STORAGE);
    server = await startServer(root);
    server.conn.onNotification(PublishDiagnosticsNotification.type, (p) => diags.set(p.uri, p.diagnostics));
  });
  after(async () => {
    await server.close();
  });

  it('scans the workspace once at start: the storage file, not node_modules', async () => {
    const uri = `file://${path.join(root, 'packages', 'proxy', 'src', 'storage-sqlite.ts')}`;
    const d = await waitFor('scan diagnostics', () => diags.get(uri), 10000);
    assert.deepEqual(d.map((x) => x.code).sort(), ['no-busy-timeout', 'no-wal', 'synchronous-not-normal']);
    assert.ok(d.every((x) => x.source === 'Trace DB Doctor'));
    assert.equal(d[0].range.start.line, 6, 'on the constructor call');
    assert.ok(![...diags.keys()].some((u) => u.includes('node_modules')));
  });

  it('an open document: diagnostics, a preferred quick fix, applied until clean', async () => {
    const uri = `file://${path.join(root, 'src', 'db.ts')}`;
    let doc = TextDocument.create(uri, 'typescript', 1, `import sqlite3 from 'sqlite3';\nexport const db = new sqlite3.Database('traces.db');\n`);
    await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text: doc.getText() } });
    const d = await waitFor('diagnostics', () => ((diags.get(uri)?.length ?? 0) > 0 ? diags.get(uri) : undefined), 10000);
    assert.ok(d.some((x) => x.code === 'no-wal'));
    const actions = (await server.conn.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: d[0].range,
      context: { diagnostics: d },
    })) as CodeAction[];
    const preferred = actions.find((a) => a.isPreferred);
    assert.ok(preferred, JSON.stringify(actions.map((a) => a.title)));
    assert.equal(preferred.title, 'Add the missing SQLite pragmas (RUNBOOK-002)');
    assert.ok(actions.some((a) => a.kind === 'source.fixAll.tracedb'));
    doc = TextDocument.create(uri, 'typescript', 2, TextDocument.applyEdits(doc, preferred.edit!.changes![uri]));
    assert.match(doc.getText(), /db\.run\('PRAGMA journal_mode = WAL'\);/);
    await server.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: doc.getText() }] });
    await waitFor('diagnostics cleared', () => diags.get(uri)?.length === 0, 10000);
    await server.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  });

  it("the client command's edits for a file on disk: the whole fix, or the timeout alone", async () => {
    const file = path.join(root, 'packages', 'proxy', 'src', 'storage-sqlite.ts');
    const uri = `file://${file}`;
    const only = await server.conn.sendRequest(proto.storageFixEdits, { uri, only: 'busyTimeout' });
    assert.equal(only.edits.length, 1);
    assert.match(only.edits[0].newText, /busy_timeout = 5000/);
    const all = await server.conn.sendRequest(proto.storageFixEdits, { uri });
    const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'typescript', 0, STORAGE), all.edits);
    assert.deepEqual(lintSource(file, fixed).findings, []);
  });
});
