// The trace explorer in a real VS Code: browse, scroll, filter, search and open a trace
// on a DB with hostile content, and prove nothing from the data ran.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { prepare, withSession, type Session } from './harness';
import { createTraceDb, startActor, tempDir } from '../support/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fx = require('../fixtures/traceforge.cjs');

const SHORT = 20000;
// The window, the extension host and the server start on a shared machine: give them longer than a step.
const STARTUP = 90000;
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
      if (
        await f
          .locator('.viewport')
          .count()
          .catch(() => 0)
      )
        return f;
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
      await s.statusItem().filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: STARTUP });
      await s.runCommand('Trace DB: Open Trace Explorer');
      const f = await explorerFrame(s);
      await f.locator('.row .col-time').first().waitFor({ timeout: SHORT });
      await s.shot('explorer-open');
      assert.equal((await f.locator('[role="grid"] .row[role="row"]').count()) > 0, true, 'rows are grid rows');
      assert.equal(await f.locator('.detail').isVisible(), false, 'no detail pane before a trace is selected');
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
      await f.waitForFunction(
        () => {
          const cells = [...document.querySelectorAll('.row .col-status')];
          return cells.length > 0 && cells.every((e) => e.textContent === 'error');
        },
        undefined,
        { timeout: SHORT },
      );
      const statuses = await f.locator('.row .col-status').allInnerTexts();
      assert.ok(statuses.length > 0 && statuses.every((x) => x === 'error'), statuses.join());
      await f.locator('select[aria-label="Status"]').selectOption('');

      // Search (FTS) and open the hostile trace.
      await f.locator('input.search').fill('hostilemarker');
      await f.waitForFunction((n) => document.querySelectorAll('.row').length === n, HOSTILE.length, { timeout: SHORT });
      // The term is marked in the prompt column, as text.
      assert.equal(await f.locator('.row .col-prompt mark', { hasText: 'hostilemarker' }).count(), HOSTILE.length);
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
      assert.equal(
        await f.locator('.detail img, .detail script, .detail svg, .detail a[href], .rows img, .rows svg').count(),
        0,
        'no element came from the data',
      );
      assert.equal(await f.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'no script from the data ran');
      const raw = f.locator('details.raw summary', { hasText: 'Request JSON' });
      await raw.click();
      await f.locator('.json-key').first().waitFor({ timeout: SHORT });
      await s.shot('explorer-raw-json');
    });
  });

  it('with a writer adding 20 traces/s: a click opens that row, the row stays put, a pill loads the new ones, headers sort', async () => {
    const root = tempDir('tracedb-e2e-live-');
    fs.mkdirSync(path.join(root, '.ai-tests'));
    const db = path.join(root, '.ai-tests', 'traces.db');
    await createTraceDb(db, { rows: 600, journalMode: 'wal' });
    const writer = await startActor('writer', db, ['--rate', '20', '--busy-timeout', '5000']);
    let failed = true;
    try {
      await withSession('trace-explorer-live', root, {}, async (s) => {
        await s.statusItem().filter({ hasText: 'traces.db · WAL' }).waitFor({ timeout: STARTUP });
        await s.runCommand('Trace DB: Open Trace Explorer');
        const f = await explorerFrame(s);
        await f.locator('.row .col-time').first().waitFor({ timeout: SHORT });
        await f.locator('.count', { hasText: '≈' }).waitFor({ timeout: SHORT });
        assert.match(await f.locator('.count').innerText(), /^≈ [\d,]+ traces$/, 'the estimate is shown without counting');
        assert.equal(await f.locator('.detail').isVisible(), false);
        await s.shot('live-open');

        // Click a row near the top while new traces keep arriving.
        const row = f.locator('.row[data-index="2"]');
        const id = (await row.getAttribute('data-id'))!;
        const model = await row.locator('.col-model').innerText();
        const latency = await row.locator('.col-latency').innerText();
        const text = await row.innerText();
        await row.click();
        await f.locator('.detail .trace-id', { hasText: id }).waitFor({ timeout: SHORT });
        assert.equal(await f.locator('.detail .fact-model').innerText(), model);
        assert.equal(await f.locator('.detail .fact-latency').innerText(), latency);
        const selected = f.locator('.row[aria-selected="true"]');
        const box = (await selected.boundingBox())!;
        await s.shot('live-clicked-row-detail');
        await s.capture('trace-explorer', { hideToasts: true });

        // Three seconds of writes later, the same row is selected at the same place, and a pill offers the new ones.
        await s.page.waitForTimeout(3000);
        assert.equal(await selected.count(), 1);
        assert.equal(await selected.getAttribute('data-id'), id);
        assert.equal(await selected.innerText(), text);
        const after = (await selected.boundingBox())!;
        assert.deepEqual([after.x, after.y], [box.x, box.y], 'the selected row did not move');
        assert.equal(await f.locator('.detail .trace-id').innerText(), id);
        const pill = f.locator('.new-pill');
        await pill.waitFor({ state: 'visible', timeout: SHORT });
        assert.match(await pill.innerText(), /new traces/i);
        await s.shot('live-pill');

        // The user asks for them: the list reloads with the newer traces on top.
        const firstBefore = (await f.locator('.row[data-index="0"]').getAttribute('data-id'))!;
        const firstTime = await f.locator('.row[data-index="0"] .col-time').innerText();
        await pill.click();
        await f.waitForFunction(
          (old) => {
            const first = document.querySelector<HTMLElement>('.row[data-index="0"]');
            return !!first && first.dataset.id !== old;
          },
          firstBefore,
          { timeout: SHORT },
        );
        assert.ok((await f.locator('.row[data-index="0"] .col-time').innerText()) >= firstTime, 'newer traces came on top');
        // The selection follows its trace (pushed down, maybe out of view, by the rows loaded above it).
        const selectedIds = await f.locator('.row[aria-selected="true"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id));
        assert.ok(
          selectedIds.every((x) => x === id),
          selectedIds.join(),
        );
        await s.shot('live-pill-loaded');

        // A header click sorts by that column; a second click reverses it.
        const latencies = async () =>
          (await f.locator('.row .col-latency').allInnerTexts()).map((t) => (t.endsWith(' s') ? parseFloat(t) * 1000 : parseFloat(t)));
        const header = f.locator('.list-header [role="columnheader"].col-latency');
        await header.locator('button').click();
        await f.waitForFunction(
          () =>
            document.querySelector('.list-header .col-latency')?.getAttribute('aria-sort') === 'descending' &&
            document.querySelector('[role="grid"]')?.getAttribute('aria-busy') === 'false',
        );
        assert.equal(await f.locator('button.dir').innerText(), '↓ slowest');
        let l = await latencies();
        assert.ok(l.length > 5 && l.every((x, i) => i === 0 || l[i - 1] >= x), `slowest first: ${l.slice(0, 10).join()}`);
        await s.shot('live-sorted-slowest');
        await header.locator('button').click();
        await f.waitForFunction(
          () =>
            document.querySelector('.list-header .col-latency')?.getAttribute('aria-sort') === 'ascending' &&
            document.querySelector('[role="grid"]')?.getAttribute('aria-busy') === 'false',
        );
        assert.equal(await f.locator('button.dir').innerText(), '↑ fastest');
        l = await latencies();
        assert.ok(l.length > 5 && l.every((x, i) => i === 0 || l[i - 1] <= x), `fastest first: ${l.slice(0, 10).join()}`);
        await s.shot('live-sorted-fastest');

        // "Open JSON" opens a document beside: the explorer narrows and stacks, nothing overlaps.
        await f.locator('.detail button', { hasText: 'Open JSON' }).click();
        await s.page.locator('.tab', { hasText: '.json' }).first().waitFor({ timeout: SHORT });
        await s.page.waitForTimeout(1000);
        const toolbar = (await f.locator('.toolbar.secondary').boundingBox())!;
        const bar = (await f.locator('.list-bar').boundingBox())!;
        const head = (await f.locator('.list-header').boundingBox())!;
        assert.ok(
          bar.y >= toolbar.y + toolbar.height - 1 && head.y >= bar.y + bar.height - 1,
          `toolbar ${JSON.stringify(toolbar)} bar ${JSON.stringify(bar)} header ${JSON.stringify(head)}`,
        );
        await s.shot('live-open-json-beside');
      });
      failed = false;
    } finally {
      const summary = await writer.stop();
      if (!failed) assert.equal(summary?.busyErrors, 0, 'the explorer never made the writer fail');
    }
  });
});
