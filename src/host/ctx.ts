// One context object owns the output channel, the server's client and the health
// store (rust-analyzer's Ctx). Every server request goes through `request`, which logs
// its time and turns failures into messages with "Open Output".
import * as vscode from 'vscode';
import { State, WorkDoneProgress, type LanguageClient, type ProgressToken, type RequestType } from 'vscode-languageclient/node';
import * as proto from '../shared/protocol';
import { idlePollIntervalMs, minBusyTimeoutMs, pollIntervalMs } from './config';
import { DatabaseChoice } from './health/databaseChoice';
import type { DbEntry } from './health/dbEntry';
import { HealthStore } from './health/healthStore';

export class ServerNotRunning extends Error {}

export class Ctx implements vscode.Disposable {
  readonly store = new HealthStore();
  private readonly dataChanged = new vscode.EventEmitter<proto.DataChangedParams>();
  /**
   * The server's dataChanged, fanned out from here: vscode-languageclient keeps one handler
   * per method, so two explorer panels registering their own would replace each other, and
   * closing one would silence the other (rust-analyzer's ctx owns its subscriptions too).
   */
  readonly onDataChanged = this.dataChanged.event;
  readonly choice: DatabaseChoice;
  private tokenSeq = 0;

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly client: LanguageClient,
  ) {
    this.choice = new DatabaseChoice(extension.workspaceState);
  }

  get running(): boolean {
    return this.client.state === State.Running;
  }

  async request<P, R>(
    type: RequestType<P, R, void>,
    params: P,
    progress?: vscode.Progress<{ message?: string; increment?: number }>,
    token?: vscode.CancellationToken,
  ): Promise<R> {
    if (!this.running) throw new ServerNotRunning(vscode.l10n.t('The Trace DB Doctor server is not running. Run "Trace DB: Restart Doctor Server".'));
    const started = performance.now();
    let sub: vscode.Disposable | undefined;
    let sent = params;
    if (progress) {
      // Server-side progress arrives on a token we name; it feeds the notification.
      const token: ProgressToken = `tracedb-${++this.tokenSeq}`;
      let last = 0;
      sub = this.client.onProgress(WorkDoneProgress.type, token, (v) => {
        if (v.kind === 'end') return;
        const pct = v.percentage ?? last;
        progress.report({ message: v.message, increment: Math.max(0, pct - last) });
        last = pct;
      });
      sent = { ...params, workDoneToken: token };
    }
    try {
      const result = await (token ? this.client.sendRequest(type, sent, token) : this.client.sendRequest(type, sent));
      this.log.info(`${type.method} ${Math.round(performance.now() - started)} ms`);
      return result;
    } catch (e) {
      this.log.warn(`${type.method} failed after ${Math.round(performance.now() - started)} ms: ${(e as Error).message}`);
      throw e;
    } finally {
      sub?.dispose();
    }
  }

  /**
   * A full check of one database now, its report stored at once, so the status bar, the
   * tree and the auto-check show what the user's command just found.
   */
  async check(entry: DbEntry, extra: Partial<proto.HealthParams> = {}): Promise<proto.HealthReport> {
    const report = await this.request(proto.health, { dbPath: entry.dbPath, logPath: entry.logPath, mode: 'full', ...extra });
    this.store.update(entry.folderUri, report);
    return report;
  }

  private interest: proto.WatchInterestParams = { names: false, data: false };

  /**
   * Tells the server what the UI shows, so the poll does only that work: process names
   * while the Health view is visible, dataChanged while an explorer is open. Kept here and
   * re-sent with every watch list, so a restarted server knows it too.
   */
  setInterest(change: proto.WatchInterestParams): void {
    const next = { ...this.interest, ...change };
    if (next.names === this.interest.names && next.data === this.interest.data) return;
    this.interest = next;
    if (this.running) void this.request(proto.watchInterest, next).catch((e) => this.log.warn(`watchInterest: ${(e as Error).message}`));
  }

  /** Tells the server which databases to watch (start, folder change, setting change). */
  async sendWatchList(): Promise<void> {
    const resolved = await this.choice.resolveAll((root) => this.request(proto.discover, { root }));
    this.store.setTargets(resolved);
    const databases = resolved.map(({ folderUri, dbPath, logPath }) => ({ folderUri, dbPath, ...(logPath ? { logPath } : {}) }));
    await this.request(proto.watch, {
      databases,
      pollIntervalMs: pollIntervalMs(),
      idleIntervalMs: idlePollIntervalMs(),
      minBusyTimeoutMs: minBusyTimeoutMs(),
    });
    await this.request(proto.watchInterest, this.interest);
  }

  /**
   * Resolves once every watched folder has its first report, so a command run in the
   * first seconds of a window (the palette shows them at once) acts on a known state.
   * Shows progress when it has to wait; gives up after `timeoutMs`.
   */
  async whenReported(timeoutMs = 20000): Promise<void> {
    // No folder, nothing to report on; a stopped server reports nothing either (request() says so).
    if (this.store.reported() || !vscode.workspace.workspaceFolders?.length || this.client.state === State.Stopped) return;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Trace DB Doctor: looking at the trace database…') },
      () =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(done, timeoutMs);
          const sub = this.store.onDidChange(() => this.store.reported() && done());
          function done() {
            clearTimeout(timer);
            sub.dispose();
            resolve();
          }
        }),
    );
  }

  /** Shows an error; a user-facing one as it is, anything else with "Open Output". */
  async showError(e: unknown): Promise<void> {
    const code = (e as { code?: number }).code;
    const message = (e as Error)?.message ?? String(e);
    if (code === proto.USER_FACING_ERROR || e instanceof ServerNotRunning) {
      await vscode.window.showWarningMessage(message);
      return;
    }
    this.log.error(message);
    const open = vscode.l10n.t('Open Output');
    if ((await vscode.window.showErrorMessage(vscode.l10n.t('Trace DB Doctor: {0}', message), open)) === open) this.log.show();
  }

  /** Registers the server's notifications once, for every consumer (see onDataChanged). */
  listen(): vscode.Disposable[] {
    return [
      this.client.onNotification(proto.healthChanged, (p) => this.store.update(p.folderUri, p.report)),
      this.client.onNotification(proto.dataChanged, (p) => this.dataChanged.fire(p)),
    ];
  }

  dispose(): void {
    this.dataChanged.dispose();
    this.store.dispose();
  }
}
