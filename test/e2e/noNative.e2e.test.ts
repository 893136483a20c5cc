// The extension in code-server with @vscode/sqlite3's native file removed from the installed
// extension, as on a platform the VSIX carries no addon for: the doctor falls back to Node's
// own node:sqlite (code-server's extension host runs Node 24), says so, and still repairs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NATIVE_ADDON, prepare, withSession } from './harness';
import { runExtensionHostSuite } from './extensionHostSuite';
import { journalMode, rowCount, startProxy, workspace } from './proxyWorkspace';

const SHORT = 20000;
// The window, the extension host and the server start on a shared machine: give them longer than a step.
const STARTUP = 90000;
const NODE_SQLITE_LINE = /SQLite engine: node:sqlite \(built into Node 2\d[^;]*; the native module did not load: /;

describe('end to end without the native SQLite addon (node:sqlite)', function () {
  this.timeout(240000);

  before(async function () {
    this.timeout(900000);
    await prepare();
  });

  it('status bar warns, the tree and the Output name node:sqlite, and Enable WAL from the status bar fixes it without losing a row', async () => {
    const { root, proxyDir, db } = await workspace();
    const proxy = startProxy(proxyDir);
    let result: { stored: number; locked: number };
    try {
      await withSession('no-native-status-bar-enable-wal', root, { removeFromExtension: [NATIVE_ADDON] }, async (s) => {
        const item = s.statusItem();
        await item.filter({ hasText: 'traces.db: not WAL' }).waitFor({ timeout: STARTUP });
        await s.shot('not-wal-warning');

        await s.openDoctorView();
        await s.resizeSideBar(560);
        const engine = s.treeRow(/SQLite\s*node:sqlite/);
        await engine.waitFor({ timeout: SHORT });
        assert.match(await engine.innerText(), /node:sqlite \(built into Node 2\d/);
        assert.doesNotMatch(await engine.innerText(), /@vscode\/sqlite3/);
        await s.shot('tree-names-node-sqlite');

        // The server's first line says which engine it runs on, and why.
        await s.runCommand('Trace DB: Show Output');
        // Filtered as a user looking for it would: later lines would scroll it out of view.
        // (The Problems view keeps a filter box of its own in the panel, hidden.)
        await s.page.locator('.part.panel input[placeholder^="Filter"]').filter({ visible: true }).fill('SQLite engine');
        await s.page.locator('.part.panel .monaco-editor .view-line', { hasText: 'SQLite engine: node:sqlite' }).first().waitFor({ timeout: SHORT });
        assert.match(s.outputChannelText('Trace DB Doctor'), NODE_SQLITE_LINE);
        await s.shot('output-names-node-sqlite');

        const before = await rowCount(db);
        await item.click();
        const enable = s.quickPickRow('Enable WAL');
        await enable.waitFor();
        await enable.click();
        await s.dialogButton('Enable WAL').click();
        await item.filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: SHORT });
        // The backup after the switch is made with node:sqlite's backup too.
        await s.toast('now in WAL mode').waitFor({ timeout: 60000 });
        await s.shot('healthy-after-enable-wal');
        assert.equal(await journalMode(db), 'wal');
        assert.ok((await rowCount(db)) >= before);
      });
    } finally {
      result = await proxy.stop();
    }
    assert.ok(result.stored > 0, 'the proxy kept writing');
    assert.equal(result.locked, 0, 'the proxy (5 s busy timeout) met no "database is locked"');
    assert.equal(await rowCount(db), 300 + result.stored, 'every row the proxy committed is there');
    const backups = fs.readdirSync(path.join(path.dirname(db), 'backups')).filter((f) => f.endsWith('.db'));
    assert.equal(backups.length, 1, 'one finished backup, nothing half-written');
  });

  it('the extension-host test suite passes inside code-server on node:sqlite (trusted)', async () => {
    await runExtensionHostSuite('extension-host-suite-no-native', { trusted: true, removeFromExtension: [NATIVE_ADDON] }, async (s) => {
      assert.match(s.outputChannelText('Trace DB Doctor'), NODE_SQLITE_LINE, 'the suite ran against node:sqlite');
    });
  });
});
