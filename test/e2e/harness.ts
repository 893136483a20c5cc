// End-to-end plumbing: a real VS Code (code-server 4.139) on a free loopback port with a
// fresh profile, our VSIX installed, driven in Debian's Chromium through playwright-core.
// Every process started here is stopped in `close`, also when a test fails; a failing
// step keeps its screenshot, the code-server log and the extension host logs.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const REPO = path.resolve(__dirname, '..', '..');
export const ARTIFACTS = path.join(REPO, '.e2e');
/** README and Marketplace pictures: written only when TRACEDB_SCREENSHOTS=1, so ordinary runs leave tracked files alone. */
export const IMAGES = path.join(REPO, 'docs', 'images');
export const CAPTURING = process.env.TRACEDB_SCREENSHOTS === '1';
export const EXTENSION_ID = 'traceforge.tracedb-doctor';
/** @vscode/sqlite3's native addon inside the installed extension: without it the doctor falls back to node:sqlite. */
export const NATIVE_ADDON = 'node_modules/@vscode/sqlite3/build/Release/vscode-sqlite3.node';

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Tools {
  node24: string;
  codeServerEntry: string;
  chromium: string;
}
interface Dirs {
  config: string;
  userData: string;
  extensions: string;
}
interface CodeServer {
  url: string;
  port: number;
  folderUrl(folder: string): string;
  stop(): Promise<void>;
}
// The launch helpers are shared with `npm start` (plain ES modules in scripts/lib).
type ToolchainModule = { ensureToolchain(o?: { chromium?: boolean }): Tools };
type CodeServerModule = {
  makeProfile(root: string, o?: { trusted?: boolean; settings?: Record<string, unknown> }): Dirs;
  installVsix(t: Tools, d: Dirs, vsix: string): void;
  installedExtensionDir(d: Dirs, id: string): string;
  startCodeServer(t: Tools, d: Dirs, o?: { port?: number; env?: Record<string, string>; logFile?: string }): Promise<CodeServer>;
  extensionHostLogs(d: Dirs): string[];
};
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a real import() that the CommonJS transform would rewrite into require()
const importEsm = new Function('p', 'return import(p)') as (p: string) => Promise<any>;

interface Prepared {
  tools: Tools;
  cs: CodeServerModule;
  vsix: string;
  runnerVsix: string;
}
let toolsPromise: Promise<Prepared> | undefined;

/** Toolchain (cached in .tools/), a fresh VSIX and the test-runner VSIX, once per test run. */
export function prepare(): Promise<Prepared> {
  toolsPromise ??= (async () => {
    const tc = (await importEsm(path.join(REPO, 'scripts', 'lib', 'toolchain.mjs'))) as ToolchainModule;
    const cs = (await importEsm(path.join(REPO, 'scripts', 'lib', 'codeServer.mjs'))) as CodeServerModule;
    const tools = tc.ensureToolchain({ chromium: true });
    const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('npm run package failed');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const runnerVsix = path.join(ARTIFACTS, 'tracedb-test-runner.vsix');
    const vsce = path.join(REPO, 'node_modules', '.bin', 'vsce');
    const rr = spawnSync(vsce, ['package', '--out', runnerVsix], { cwd: path.join(REPO, 'test', 'vscode', 'runner'), stdio: ['ignore', 'ignore', 'inherit'] });
    if (rr.status !== 0) throw new Error('packaging the test-runner extension failed');
    return { tools, cs, vsix: path.join(REPO, 'tracedb-doctor.vsix'), runnerVsix };
  })();
  return toolsPromise;
}

export interface SessionOptions {
  trusted?: boolean;
  /**
   * Run the extension-host suite (dist/test/suite.js) in this window through the
   * test-runner extension; `env` reaches the extension host. The result lands in `resultFile`.
   */
  extensionTests?: { env: Record<string, string>; resultFile: string };
  settings?: Record<string, unknown>;
  /** Files (relative to the installed extension's folder) deleted after the install, before the window opens. */
  removeFromExtension?: string[];
}

/** What `capture` shows: the window (default), one element, or a region of the window. */
export type CaptureTarget = Locator | { x: number; y: number; width: number; height: number };

export class Session {
  private step = 0;
  private constructor(
    readonly name: string,
    readonly page: Page,
    private readonly browser: Browser,
    readonly server: CodeServer,
    private readonly dirs: Dirs,
    private readonly cs: CodeServerModule,
    readonly artifacts: string,
  ) {}

  static async open(name: string, folder: string, opts: SessionOptions = {}): Promise<Session> {
    const { tools, cs, vsix, runnerVsix } = await prepare();
    const artifacts = path.join(ARTIFACTS, name);
    fs.rmSync(artifacts, { recursive: true, force: true });
    fs.mkdirSync(artifacts, { recursive: true });
    const dirs = cs.makeProfile(path.join(artifacts, 'profile'), { trusted: opts.trusted ?? true, settings: opts.settings });
    cs.installVsix(tools, dirs, vsix);
    if (opts.removeFromExtension?.length) {
      const installed = cs.installedExtensionDir(dirs, EXTENSION_ID);
      for (const rel of opts.removeFromExtension) {
        const file = path.join(installed, rel);
        // A file that is not there would make the scenario prove nothing.
        if (!fs.existsSync(file)) throw new Error(`${rel} is not in the installed extension (${installed})`);
        fs.rmSync(file);
      }
    }
    let env: Record<string, string> = {};
    if (opts.extensionTests) {
      cs.installVsix(tools, dirs, runnerVsix);
      env = {
        ...opts.extensionTests.env,
        TRACEDB_EXTENSION_TESTS: path.join(REPO, 'dist', 'test', 'suite.js'),
        TRACEDB_EXTENSION_TESTS_RESULT: opts.extensionTests.resultFile,
      };
    }
    const server = await cs.startCodeServer(tools, dirs, { logFile: path.join(artifacts, 'code-server.log'), env });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: tools.chromium,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      // The workbench's clipboard is the browser's: let it read and write as a user's browser would.
      const context = await browser.newContext({ viewport: { width: 1400, height: 850 }, permissions: ['clipboard-read', 'clipboard-write'] });
      const page = await context.newPage();
      const session = new Session(name, page, browser, server, dirs, cs, artifacts);
      await page.goto(server.folderUrl(folder));
      return session;
    } catch (e) {
      await browser?.close();
      await server.stop();
      throw e;
    }
  }

  /** Saves `NN-step.png` under .e2e/<scenario>/ and returns its path. */
  async shot(step: string): Promise<string> {
    const file = path.join(this.artifacts, `${String(++this.step).padStart(2, '0')}-${step}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * With TRACEDB_SCREENSHOTS=1, writes docs/images/<name>.png (the window, an element or a
   * region; `hideToasts` leaves notifications out); otherwise does nothing.
   */
  async capture(name: string, opts: { target?: CaptureTarget; hideToasts?: boolean } = {}): Promise<void> {
    if (!CAPTURING) return;
    fs.mkdirSync(IMAGES, { recursive: true });
    const shot = {
      path: path.join(IMAGES, `${name}.png`),
      animations: 'disabled' as const,
      ...(opts.hideToasts ? { style: '.notifications-toasts { visibility: hidden !important; }' } : {}),
    };
    const t = opts.target;
    if (!t) await this.page.screenshot(shot);
    else if ('screenshot' in t) await t.screenshot(shot);
    else await this.page.screenshot({ ...shot, clip: t });
  }

  /** The lines the extension wrote to its Output channel (VS Code keeps each log channel in a file). */
  outputChannelText(channel: string): string {
    const file = this.cs.extensionHostLogs(this.dirs).find((f) => path.basename(f) === `${channel}.log`);
    return file ? fs.readFileSync(file, 'utf8') : '';
  }

  /** Stops the browser and code-server; on failure keeps a screenshot and names the logs. */
  async close(failed: boolean): Promise<void> {
    if (failed) {
      const shot = await this.shot('failure').catch(() => undefined);
      const logs = [path.join(this.artifacts, 'code-server.log'), ...this.cs.extensionHostLogs(this.dirs)];
      process.stderr.write(`\n[e2e] ${this.name} failed. Screenshot: ${shot ?? 'none'}\n[e2e] Logs:\n${logs.map((l) => `  ${l}`).join('\n')}\n`);
    }
    await this.browser.close().catch(() => undefined);
    await this.server.stop();
  }

  // ------------------------------------------------------------ workbench helpers

  statusItem(): Locator {
    return this.page.locator('[id="traceforge.tracedb-doctor.tracedb.status"]');
  }

  /**
   * Runs a palette command as a user would. The palette lists what was registered when it
   * opened: in the first seconds of a window an extension's contributions may still be on
   * their way, and a user who does not see the command closes and reopens the palette.
   */
  async runCommand(title: string, timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.page.keyboard.press('F1');
      const input = this.page.locator('.quick-input-widget input');
      await input.waitFor();
      await input.fill(`>${title}`);
      try {
        await this.quickPickRow(title).waitFor({ timeout: 3000 });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await this.page.keyboard.press('Escape');
      }
    }
    await this.page.keyboard.press('Enter');
  }

  quickPickRow(text: string): Locator {
    return this.page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  }

  dialogButton(label: string): Locator {
    return this.page.locator('.monaco-dialog-box .monaco-button', { hasText: label }).first();
  }

  toast(text: string | RegExp): Locator {
    return this.page.locator('.notification-toast', { hasText: text });
  }

  async openDoctorView(): Promise<Locator> {
    await this.page
      .locator('.activitybar .action-item', { has: this.page.locator('[aria-label^="Trace DB Doctor"]') })
      .first()
      .click();
    const view = this.page.locator('.pane', { hasText: 'Problems' }).first();
    await view.waitFor();
    return view;
  }

  treeRow(text: string | RegExp): Locator {
    return this.page.locator('.pane-body .monaco-list-row', { hasText: text }).first();
  }

  /** Drags the sash at the side bar's edge, as a user widening it to read long rows. */
  async resizeSideBar(width: number): Promise<void> {
    const bar = (await this.page.locator('.part.sidebar').boundingBox())!;
    const edge = bar.x + bar.width;
    let grip: { x: number; y: number } | undefined;
    for (const sash of await this.page.locator('.monaco-sash.vertical').all()) {
      const b = await sash.boundingBox();
      if (b && b.height > bar.height / 2 && Math.abs(b.x + b.width / 2 - edge) < 8 && (!grip || Math.abs(b.x + b.width / 2 - edge) < Math.abs(grip.x - edge)))
        grip = { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    }
    if (!grip) throw new Error('no sash at the side bar edge');
    await this.page.mouse.move(grip.x, grip.y);
    await this.page.mouse.down();
    await this.page.mouse.move(bar.x + width, grip.y, { steps: 10 });
    await this.page.mouse.up();
    // Off the sash, which stays highlighted while hovered.
    await this.page.mouse.move(bar.x + width + 200, grip.y);
  }
}

/** Runs `body` with a session and always closes it, marking failures. */
export async function withSession(name: string, folder: string, opts: SessionOptions, body: (s: Session) => Promise<void>): Promise<void> {
  const s = await Session.open(name, folder, opts);
  let failed = true;
  try {
    await body(s);
    failed = false;
  } finally {
    await s.close(failed);
  }
}
