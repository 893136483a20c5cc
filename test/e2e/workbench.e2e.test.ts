// The extension in a real VS Code (code-server) driven through Chromium as a user would.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withSession, prepare } from './harness';
import { runExtensionHostSuite } from './extensionHostSuite';
import { bigWorkspace, journalMode, rowCount, startProxy, workspace } from './proxyWorkspace';
import { ensureBigTraceDb } from '../fixtures/bigDb';
import { startActor } from '../support/helpers';

const SHORT = 20000;

describe('end to end in code-server + Chromium', function () {
  this.timeout(240000);

  before(async function () {
    this.timeout(900000); // first run installs the toolchain into .tools/
    await prepare();
  });

  it('status bar warns, the auto-check notifies, the tree names the proxy and the blocker by PID, and Enable WAL from the status bar fixes it without losing a row', async () => {
    const { root, proxyDir, db } = await workspace();
    const proxy = startProxy(proxyDir);
    let result: { stored: number; locked: number };
    try {
      await withSession('status-bar-enable-wal', root, {}, async (s) => {
        const item = s.statusItem();
        await item.filter({ hasText: 'traces.db: not WAL' }).waitFor({ timeout: SHORT });
        await s.shot('not-wal-warning');

        const toast = s.toast('not WAL');
        await toast.waitFor({ timeout: SHORT });
        assert.ok(await toast.locator('.monaco-button', { hasText: 'Enable WAL' }).count());
        await s.shot('auto-check-notification');
        // The README's picture: the bottom of the window, the warning and its notification.
        const top = (await toast.boundingBox())!.y - 16;
        const view = s.page.viewportSize()!;
        await s.capture('status-bar-not-wal', { target: { x: 0, y: top, width: view.width, height: view.height - top } });

        await s.openDoctorView();
        // Wide enough to read the rows whole.
        await s.resizeSideBar(560);
        for (const section of ['Problems', 'Database', 'Files', 'Locks now', 'Processes with the DB open'])
          await s.treeRow(section).waitFor({ timeout: SHORT });
        // The proxy, running from packages/proxy, is named as such.
        await s.treeRow(new RegExp(`PID ${proxy.child.pid}.*TraceForge proxy`)).waitFor({ timeout: SHORT });
        const holder = await startActor('hold-write', db);
        await s.treeRow(`PID ${holder.pid}`).waitFor({ timeout: SHORT });
        // The "Locks now" row of that lock (the holder's own row also names RESERVED).
        const lockRow = s.page.locator(`.pane-body .monaco-list-row[aria-label^="RESERVED PID ${holder.pid}"]`);
        await lockRow.waitFor({ timeout: SHORT });
        await item.filter({ hasText: `locked by PID ${holder.pid}` }).waitFor({ timeout: SHORT });
        // The blocker is the test's process, never the proxy it blocks.
        await s.treeRow(`Blocked by PID ${holder.pid} (node actor.cjs)`).waitFor({ timeout: SHORT });
        await s.shot('tree-lock-held-by-child');
        const bar = (await s.page.locator('.part.sidebar').boundingBox())!;
        await s.capture('health-tree', { target: { x: 0, y: 0, width: Math.round(bar.x + bar.width + 4), height: view.height } });
        await holder.stop();
        await lockRow.waitFor({ state: 'detached', timeout: SHORT });
        await s.shot('tree-lock-cleared');

        const before = await rowCount(db);
        await item.click();
        // Grouped under the finding it answers; Enable WAL comes first (presentation tests).
        const enable = s.quickPickRow('Enable WAL');
        await enable.waitFor();
        await s.shot('fixes-quick-pick');
        await s.capture('fix-picker');
        await enable.click();
        await s.dialogButton('Enable WAL').click();
        await item.filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: SHORT });
        await s.shot('healthy-after-enable-wal');
        assert.equal(await journalMode(db), 'wal');
        assert.ok((await rowCount(db)) >= before);
      });
    } finally {
      result = await proxy.stop();
    }
    assert.ok(result.stored > 0, 'the proxy kept writing');
    assert.equal(await rowCount(db), 300 + result.stored, 'every row the proxy committed is there');
  });

  it('on a 757 MiB DB with the proxy writing 50 traces/s: status bar → Enable WAL ends in WAL, no row lost, no lock error, backup from the WAL snapshot', async function () {
    this.timeout(600000);
    await ensureBigTraceDb(); // built once, cached (.bench-cache/): minutes the first time
    const { root, proxyDir, db, rows } = await bigWorkspace(50);
    const proxy = startProxy(proxyDir);
    let result: { stored: number; locked: number };
    try {
      await withSession('big-db-status-bar-enable-wal', root, {}, async (s) => {
        const item = s.statusItem();
        await item.filter({ hasText: 'traces.db: not WAL' }).waitFor({ timeout: SHORT });
        await s.shot('big-db-not-wal');
        await item.click();
        const enable = s.quickPickRow('Enable WAL');
        await enable.waitFor();
        await enable.click();
        await s.dialogButton('Enable WAL').click();
        // Progress shows at once; the switch itself is done in seconds, the backup follows.
        await s.toast('Enabling WAL').waitFor({ timeout: 5000 });
        await s.shot('big-db-progress');
        await item.filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: 60000 });
        await s.toast('now in WAL mode').waitFor({ timeout: 120000 });
        await s.shot('big-db-healthy');
      });
    } finally {
      result = await proxy.stop();
    }
    assert.equal(await journalMode(db), 'wal');
    assert.ok(result.stored > 0, 'the proxy kept writing');
    assert.equal(result.locked, 0, 'the proxy (5 s busy timeout) met no "database is locked"');
    assert.equal(await rowCount(db), rows + result.stored, 'every row the proxy committed is there');
    const backups = fs.readdirSync(path.join(path.dirname(db), 'backups')).filter((f) => f.endsWith('.db'));
    assert.equal(backups.length, 1, 'one finished backup, nothing half-written');
  });

  it("Enable WAL from the command palette the moment the window opens, on a 757 MiB DB with the proxy writing 50/s; the storage code's quick fix", async function () {
    this.timeout(600000);
    await ensureBigTraceDb();
    const { root, proxyDir, db, rows } = await bigWorkspace(50);
    const proxy = startProxy(proxyDir);
    let result: { stored: number; locked: number };
    try {
      await withSession('palette-enable-wal', root, {}, async (s) => {
        // No waiting for the doctor: the palette lists its commands as soon as the workbench is up.
        await s.page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
        await s.runCommand('Trace DB: Enable WAL');
        await s.dialogButton('Enable WAL').click();
        await s.statusItem().filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: 60000 });
        await s.toast('now in WAL mode').waitFor({ timeout: 120000 });
        await s.shot('palette-enable-wal-done');

        // The storage code: squiggles from the language server, and the quick fix removes them.
        await s.page.keyboard.press('Control+P');
        await s.page.locator('.quick-input-widget input').fill('storage-sqlite.ts');
        await s.quickPickRow('storage-sqlite.ts').waitFor({ timeout: SHORT });
        await s.page.keyboard.press('Enter');
        const squiggle = s.page.locator('.monaco-editor .squiggly-warning');
        await squiggle.first().waitFor({ timeout: SHORT });
        await s.shot('storage-code-diagnostics');
        // Put the cursor inside the flagged `new Database(dbPath)`, then ask for quick fixes.
        const box = (await squiggle.first().boundingBox())!;
        await s.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2 - 6);
        // The light bulb VS Code shows for the code actions at the cursor.
        await s.page.locator('.lightBulbWidget').first().click();
        await s.page.getByText('Add the missing SQLite pragmas (RUNBOOK-002)').first().waitFor({ timeout: SHORT });
        await s.shot('storage-code-quick-fix');
        await s.capture('storage-quick-fix', { target: { x: 0, y: 0, width: s.page.viewportSize()!.width, height: 400 } });
        await s.page.keyboard.press('Enter');
        await s.page.locator('.monaco-editor .view-line', { hasText: "this.db.pragma('journal_mode = WAL');" }).waitFor({ timeout: SHORT });
        await squiggle.first().waitFor({ state: 'detached', timeout: SHORT });
        await s.shot('storage-code-fixed');
      });
    } finally {
      result = await proxy.stop();
    }
    assert.equal(await journalMode(db), 'wal');
    assert.equal(result.locked, 0, 'the proxy met no "database is locked"');
    assert.equal(await rowCount(db), rows + result.stored, 'every row the proxy committed is there');
  });

  it('a healthy DB gets no notification', async () => {
    const { root } = await workspace({ journalMode: 'wal' });
    await withSession('healthy-no-notification', root, {}, async (s) => {
      await s.statusItem().filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: SHORT });
      // The check has run (the status shows it); give a notification time to appear if one would.
      await s.page.waitForTimeout(3000);
      assert.equal(await s.toast('traces.db').count(), 0);
      await s.shot('healthy-quiet');
    });
  });

  it('in an untrusted folder: health is shown read-only and Enable WAL refuses with its message', async () => {
    const { root, db } = await workspace();
    await withSession('untrusted-read-only', root, { trusted: false }, async (s) => {
      await s.statusItem().filter({ hasText: 'not WAL' }).waitFor({ timeout: SHORT });
      await s.runCommand('Trace DB: Enable WAL');
      await s.toast('not available in Restricted Mode').waitFor({ timeout: SHORT });
      await s.shot('untrusted-refuses');
    });
    assert.equal(fs.readFileSync(db)[18], 1, 'still a rollback-journal DB');
  });

  for (const trusted of [true, false]) {
    it(`the extension-host test suite passes inside code-server (${trusted ? 'trusted' : 'Restricted Mode'})`, async () => {
      await runExtensionHostSuite(`extension-host-suite-${trusted ? 'trusted' : 'untrusted'}`, {
        trusted,
        env: trusted ? {} : { TRACEDB_EXPECT_UNTRUSTED: '1' },
      });
    });
  }
});
