// Which databases a Lock Monitor shows right now: the server samples those at 10 Hz
// (watchInterest { monitor }). Told on every change, and again after the server restarts
// (a new server samples nothing fast until told). No `vscode` import: the panel hands it
// a way to send, so plain mocha tests drive it.

export class MonitorInterest {
  private readonly shown = new Set<string>();

  constructor(private readonly send: (dbPaths: string[]) => void) {}

  /** A panel on `dbPath` became visible (true) or hidden / closed (false). */
  set(dbPath: string, visible: boolean): void {
    if (visible === this.shown.has(dbPath)) return;
    if (visible) this.shown.add(dbPath);
    else this.shown.delete(dbPath);
    this.send(this.dbPaths);
  }

  get dbPaths(): string[] {
    return [...this.shown].sort();
  }

  /** A fresh server knows nothing: tell it again, if there is anything to tell. */
  resend(): void {
    if (this.shown.size) this.send(this.dbPaths);
  }
}
