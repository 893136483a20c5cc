// The Lock Monitor in a real VS Code (code-server) driven through Chromium: opened from the
// command palette, it draws its uPlot timeline under the webview's CSP, and a child process
// that holds RESERVED shows up as its own lane (its PID and name) within seconds.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { CAPTURING, prepare, withSession, type Session } from './harness';
import { createTraceDb, startActor, tempDir } from '../support/helpers';

const SHORT = 20000;
// The window, the extension host and the server start on a shared machine: give them longer than a step.
const STARTUP = 90000;

async function monitorFrame(s: Session): Promise<Frame> {
  // A webview is an iframe (the host) holding another (the content): find the content by its chart.
  for (let i = 0; i < 100; i++) {
    for (const f of s.page.frames()) {
      if (
        await f
          .locator('.chart[role="img"]')
          .count()
          .catch(() => 0)
      )
        return f;
    }
    await s.page.waitForTimeout(200);
  }
  throw new Error('the Lock Monitor webview did not appear');
}

describe('end to end: the Lock Monitor', function () {
  this.timeout(240000);
  before(async function () {
    this.timeout(900000);
    await prepare();
  });

  it('opens from the command palette and shows a child process holding RESERVED as its own lane', async () => {
    const root = tempDir('tracedb-e2e-monitor-');
    fs.mkdirSync(path.join(root, '.ai-tests'));
    const db = path.join(root, '.ai-tests', 'traces.db');
    await createTraceDb(db, { rows: 50, journalMode: 'delete' });

    await withSession('lock-monitor', root, {}, async (s) => {
      await s.statusItem().filter({ hasText: 'traces.db: not WAL' }).waitFor({ timeout: STARTUP });
      await s.runCommand('Trace DB: Open Lock Monitor');
      const f = await monitorFrame(s);
      await f.locator('table.stats').waitFor({ timeout: SHORT });
      // uPlot drew its canvas, and its stylesheet (dist/uplot.css) loaded under the CSP.
      await f.locator('.chart canvas').first().waitFor({ timeout: SHORT });
      assert.equal(
        await f
          .locator('.u-wrap')
          .first()
          .evaluate((el) => getComputedStyle(el).position),
        'relative',
      );
      assert.match(await f.locator('.stats caption').innerText(), /holds shorter than \d+ ms can be missed/);
      await s.shot('monitor-open');

      const holder = await startActor('hold-write', db);
      try {
        // Its lane: named in the chart's description, and its row in the table.
        await f.waitForFunction((pid) => document.querySelector('.chart')?.getAttribute('aria-label')?.includes(`node actor.cjs · PID ${pid}`), holder.pid, {
          timeout: SHORT,
        });
        // Its RESERVED row (opening the database may show a brief SHARED hold of its own first).
        const row = f
          .locator('table.stats tbody tr', { hasText: String(holder.pid) })
          .filter({ hasText: 'RESERVED' })
          .first();
        await row.waitFor({ timeout: SHORT });
        assert.match(await row.innerText(), /node actor\.cjs/);
        // Held long enough, it is what blocked the proxy.
        await f.locator('.figures dd', { hasText: `PID ${holder.pid}` }).waitFor({ timeout: SHORT });
        await s.shot('monitor-blocker-lane');
        if (CAPTURING) {
          // A few more seconds of the hold, so the picture shows a lane rather than a sliver.
          await s.page.waitForTimeout(6000);
          await s.capture('lock-monitor', { hideToasts: true });
        }
      } finally {
        await holder.stop();
      }
    });
  });
});
