// The trace explorer in a real VS Code: browse, scroll, filter, search and open a trace
// on a DB with hostile content, and prove nothing from the data ran.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { prepare, withSession, type Session } from './harness';
import { createTraceDb, tempDir } from '../unit/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fx = require('../fixtures/traceforge.cjs');

const SHORT = 20000;
const HOSTILE = [
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=2</script>',
  '<a href="javascript:window.__pwned=3">click</a>',
  'evil\u202eTXT.exe bidi',
  '<svg onload="window.__pwned=4">',
];

async function explorerFrame(s: Session): Promise<Frame> {
  // A webview is an iframe (the host) holding another (the content): find the content by its script.
  for (let i = 0; i < 100; i++) {
    for (const f of s.page.frames()) {
      if (await f.locator('.viewport').count().catch(() => 0)) return f;
    }
    await s.page.waitForTimeout(200);
  }
  throw new Error('the trace explorer webview did not appear');
}

describe('end to end: the trace explorer', function () {
  this.timeout(240000);
  before(async function () {
    this.timeout(900000);
    await prepare();
  });

  it('browses, scrolls, filters, searches and opens a hostile trace as text only', async () => {
    const root = tempDir('tracedb-e2e-');
    fs.mkdirSync(path.join(root, '.ai-tests'));
    const db = path.join(root, '.ai-tests', 'traces.db');
    await createTraceDb(db, { rows: 1500, journalMode: 'wal' });
    const c = await fx.open(db);
    for (const [i, evil] of HOSTILE.entries()) {
      const t = fx.makeTrace(5000 + i, { extra: ` hostilemarker ${evil}` });
      t.timestamp = new Date(Date.now() + 1000 + i).toISOString();
      await c.run(fx.INSERT_SQL, fx.bind(t));
    }
    await c.close();

    await withSession('trace-explorer', root, {}, async (s) => {
      await s.statusItem().filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: SHORT });
      await s.runCommand('Trace DB: Open Trace Explorer');
      const f = await explorerFrame(s);
      await f.locator('.row .col-time').first().waitFor({ timeout: SHORT });
      await s.shot('explorer-open');
      // Newest first: the hostile traces were written last, in the future.
      assert.match(await f.locator('.row').first().innerText(), /hostilemarker/);

      // Scroll far down: more pages load by keyset.
      // Scroll to the end again and again: each time the next keyset page loads, and
      // only the rows in view are in the DOM.
      const lastIndex = () => f.locator('.row[data-index]').evaluateAll((els) => Math.max(...els.map((e) => Number((e as HTMLElement).dataset.index))));
      for (let i = 0; i < 40 && (await lastIndex()) < 420; i++) {
        await f.locator('.viewport').evaluate((el) => (el.scrollTop = el.scrollHeight));
        await s.page.waitForTimeout(250);
      }
      assert.ok((await lastIndex()) >= 420, `scrolled to row ${await lastIndex()}`);
      assert.ok((await f.locator('.row').count()) < 120, 'only the rows in view are rendered');
      await s.shot('explorer-scrolled');

      // Filter: only errors.
      await f.locator('select[aria-label="Status"]').selectOption('error');
      await f.waitForFunction(() => {
        const cells = [...document.querySelectorAll('.row .col-status')];
        return cells.length > 0 && cells.every((e) => e.textContent === 'error');
      }, undefined, { timeout: SHORT });
      const statuses = await f.locator('.row .col-status').allInnerTexts();
      assert.ok(statuses.length > 0 && statuses.every((x) => x === 'error'), statuses.join());
      await f.locator('select[aria-label="Status"]').selectOption('');

      // Search (FTS) and open the hostile trace.
      await f.locator('input.search').fill('hostilemarker');
      await f.waitForFunction((n) => document.querySelectorAll('.row').length === n, HOSTILE.length, { timeout: SHORT });
      await f.locator('.row', { hasText: 'onerror' }).first().waitFor({ timeout: SHORT });
      await f.locator('.row', { hasText: 'onerror' }).first().click();
      const bubble = f.locator('.bubble-user .bubble-text', { hasText: 'onerror' });
      await bubble.waitFor({ timeout: SHORT });
      assert.match(await bubble.innerText(), /<img src=x onerror="window.__pwned=1">/);
      await s.shot('explorer-hostile-trace-as-text');

      for (let i = 0; i < HOSTILE.length; i++) {
        await f.locator(`.row[data-index="${i}"]`).click();
        await f.locator('.detail .bubble-user .bubble-text', { hasText: 'hostilemarker' }).waitFor({ timeout: SHORT });
      }
      // Bidi override shown as a visible marker, not applied.
      await f.locator('.row', { hasText: 'U+202E' }).first().waitFor({ timeout: SHORT });
      assert.equal(await f.locator('.detail img, .detail script, .detail svg, .detail a[href], .rows img, .rows svg').count(), 0, 'no element came from the data');
      assert.equal(await f.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'no script from the data ran');
      const raw = f.locator('details.raw summary', { hasText: 'Request JSON' });
      await raw.click();
      await f.locator('.json-key').first().waitFor({ timeout: SHORT });
      await s.shot('explorer-raw-json');
    });
  });
});
