// The databases the server keeps an eye on (one DbWatcher each, with its lock monitor), as
// the client's watch list says, and what the client looks at (watchInterest, including which
// databases a Lock Monitor shows), applied to watchers created later too. Requests go through a database's watcher when it has one, so a user's check
// adds to its lock history and a repair's result shows at once.
import * as path from 'node:path';
import type { Connection } from 'vscode-languageserver/node';
import { Inspector } from '../engine';
import * as proto from '../shared/protocol';
import { SETTINGS } from '../shared/settings';
import { DbWatcher, type WatchInterest } from './dbWatcher';

/** The fastest poll the server accepts, whatever the client asks. */
const MIN_POLL_INTERVAL_MS = 250;

export class Watchers {
  private readonly byPath = new Map<string, DbWatcher>();
  private interest: WatchInterest = { names: false };
  /** Databases a Lock Monitor shows (resolved paths): sampled at 10 Hz. */
  private monitored = new Set<string>();

  constructor(private readonly connection: Connection) {}

  setInterest(params: proto.WatchInterestParams): void {
    this.interest = { names: params.names ?? this.interest.names, data: params.data ?? this.interest.data };
    if (params.monitor) this.monitored = new Set(params.monitor.map((p) => path.resolve(p)));
    for (const [key, w] of this.byPath) w.setInterest(this.interestFor(key));
  }

  private interestFor(key: string): WatchInterest {
    return { ...this.interest, monitor: this.monitored.has(key) };
  }

  /** Replaces the watch list: watchers no longer wanted (or re-targeted) go, new ones start. */
  watch(params: proto.WatchParams): void {
    const pollIntervalMs = Math.max(MIN_POLL_INTERVAL_MS, params.pollIntervalMs);
    const rates = { pollIntervalMs, idleIntervalMs: Math.max(pollIntervalMs, params.idleIntervalMs ?? SETTINGS.idleIntervalMs.default) };
    const wanted = new Map(params.databases.map((d) => [path.resolve(d.dbPath), d]));
    for (const [key, w] of this.byPath) {
      const t = wanted.get(key);
      if (!t || t.logPath !== w.target.logPath || t.folderUri !== w.target.folderUri) {
        w.dispose();
        this.byPath.delete(key);
      }
    }
    for (const [key, target] of wanted) {
      const existing = this.byPath.get(key);
      if (existing) {
        existing.setRates(rates);
        continue;
      }
      const w = new DbWatcher({ ...target, dbPath: key }, rates, {
        onChange: (t, report) => void this.connection.sendNotification(proto.healthChanged, { folderUri: t.folderUri, dbPath: t.dbPath, report }),
        onData: (t) => void this.connection.sendNotification(proto.dataChanged, { dbPath: t.dbPath }),
        onError: (t, e) => this.connection.console.error(`poll of ${t.dbPath} failed: ${(e as Error)?.stack ?? e}`),
      });
      this.byPath.set(key, w);
      w.setInterest(this.interestFor(key));
      w.start();
    }
  }

  get(dbPath: string): DbWatcher | undefined {
    return this.byPath.get(path.resolve(dbPath));
  }

  /** The watcher's inspector when there is one (its lock history counts), else a fresh one. */
  inspectorFor(dbPath: string, logPath?: string): { inspector: Inspector; watcher?: DbWatcher } {
    const w = this.get(dbPath);
    if (w) return { inspector: w.inspector, watcher: w };
    return { inspector: new Inspector(path.resolve(dbPath), { logPath }) };
  }

  /** After a repair: look again now rather than at the next poll. */
  recheck(dbPath: string): void {
    this.get(dbPath)?.schedule(0);
  }

  dispose(): void {
    for (const w of this.byPath.values()) w.dispose();
    this.byPath.clear();
  }
}
