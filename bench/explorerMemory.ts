// Memory with the trace explorer open on the 1M-trace DB, in a real VS Code (code-server)
// and Chromium: the extension host's RSS before and after opening the panel and scrolling
// through many keyset pages, and the webview's JS heap and DOM size.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Frame } from 'playwright-core';
import { log, REPO, sleep } from './common';

// A real import() that the CommonJS transform would otherwise rewrite into require().
// eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-explicit-any
const importEsm = new Function('p', 'return import(p)') as (p: string) => Promise<any>;

export interface ExplorerMemory {
  extHostBeforeMb: number;
  extHostAfterMb: number;
  rowsScrolled: number;
  webviewHeapMb?: number;
  webviewDomNodes: number;
  /** Rows the webview holds after scrolling: bounded by its window. */
  rowsKept: number;
  /** activate() as the extension logged it. */
  activationMs?: number;
}

/** The extension logs its own activation time to its output channel's log file. */
function activationMs(userData: string): number | undefined {
  const walk = (d: string): string[] =>
    fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)])) : [];
  for (const f of walk(path.join(userData, 'logs')).filter((p) => p.endsWith('Trace DB Doctor.log'))) {
    const m = /activated in ([\d.]+) ms/.exec(fs.readFileSync(f, 'utf8'));
    if (m) return Number(m[1]);
  }
  return undefined;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function extensionHostPid(): number | undefined {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes('bootstrap-fork') && cmd.includes('extensionHost')) return Number(p);
    } catch {
      // gone
    }
  }
  return undefined;
}

export async function runExplorerMemory(db: string): Promise<ExplorerMemory> {
  const tc = await importEsm(path.join(REPO, 'scripts', 'lib', 'toolchain.mjs'));
  const cs = await importEsm(path.join(REPO, 'scripts', 'lib', 'codeServer.mjs'));
  const tools = tc.ensureToolchain({ chromium: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tracedb-bench-mem-'));
  fs.mkdirSync(path.join(root, '.ai-tests'));
  // The explorer only reads: the pristine cached DB can be shown through a link.
  fs.symlinkSync(db, path.join(root, '.ai-tests', 'traces.db'));
  const dirs = cs.makeProfile(path.join(root, 'profile'), { trusted: true });
  const vsix = path.join(REPO, 'tracedb-doctor.vsix');
  if (!fs.existsSync(vsix)) throw new Error('tracedb-doctor.vsix missing: run `npm run package` first');
  cs.installVsix(tools, dirs, vsix);
  const server = await cs.startCodeServer(tools, dirs, { logFile: path.join(root, 'code-server.log') });
  const browser = await chromium.launch({
    executablePath: tools.chromium,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-precise-memory-info',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    await page.goto(server.folderUrl(root));
    await page.locator('[id="traceforge.tracedb-doctor.tracedb.status"]').filter({ hasText: 'traces.db' }).waitFor({ timeout: 60000 });
    await sleep(3000);
    const pid = extensionHostPid();
    if (!pid) throw new Error('extension host process not found');
    const before = rssMb(pid);
    log(`  explorer memory: extension host ${before.toFixed(1)} MB before opening the explorer`);
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>Trace DB: Open Trace Explorer');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Trace Explorer' }).first().waitFor();
    await page.keyboard.press('Enter');
    let frame: Frame | undefined;
    for (let i = 0; i < 100 && !frame; i++) {
      for (const f of page.frames())
        if (
          await f
            .locator('.viewport')
            .count()
            .catch(() => 0)
        )
          frame = f;
      if (!frame) await sleep(200);
    }
    if (!frame) throw new Error('explorer did not open');
    await frame.locator('.row').first().waitFor({ timeout: 30000 });
    const loaded = () => frame.locator('.viewport').evaluate((el) => Number(el.dataset.loaded));
    // Scroll through 100 pages (10,000 rows): well past the webview's 3,000-row window.
    for (let i = 0; i < 600 && (await loaded()) < 10000; i++) {
      await frame.locator('.viewport').evaluate((el) => (el.scrollTop = el.scrollHeight));
      await sleep(50);
    }
    const rowsScrolled = await loaded();
    const kept = await frame.locator('.viewport').evaluate((el) => Number((el as HTMLElement).dataset.kept));
    // RSS includes garbage the host has not collected yet: give it idle time first.
    await sleep(8000);
    const after = rssMb(pid);
    const heap = await frame.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize);
    const domNodes = await frame.evaluate(() => document.getElementsByTagName('*').length);
    log(
      `  explorer memory: after scrolling ${rowsScrolled} rows (${kept} kept): extension host ${after.toFixed(1)} MB; webview heap ${heap ? (heap / 1048576).toFixed(1) : '?'} MB, ${domNodes} DOM nodes`,
    );
    return {
      extHostBeforeMb: before,
      extHostAfterMb: after,
      rowsScrolled,
      ...(heap ? { webviewHeapMb: heap / 1048576 } : {}),
      webviewDomNodes: domNodes,
      rowsKept: kept,
      activationMs: activationMs(dirs.userData),
    };
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
