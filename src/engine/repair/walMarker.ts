// When the database was switched to WAL, remembered beside it, so that every look (the
// CLI's one-shot check, a freshly started server) tells lock errors from before the
// switch (history: WAL fixed them) from errors after it (a problem), with one verdict.
// A small JSON file in the DB's folder (`.ai-tests/`, where backups/ lives too),
// written atomically; never the database itself.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

const FILE = 'tracedb-doctor.json';

interface Marker {
  walEnabledAt?: Record<string, string>;
  /** When the doctor's Enable WAL run that made the switch began (its tries lock for milliseconds). */
  walSwitchStartedAt?: Record<string, string>;
}

export interface WalSwitch {
  at: number;
  /** Start of the doctor's run that switched it, when the doctor did. */
  runStartedAt?: number;
}

function markerPath(dbPath: string): string {
  return path.join(path.dirname(dbPath), FILE);
}

async function readMarker(dbPath: string): Promise<Marker> {
  try {
    const m = JSON.parse(await fs.readFile(markerPath(dbPath), 'utf8')) as unknown;
    return m && typeof m === 'object' ? m : {};
  } catch {
    return {};
  }
}

function time(iso: string | undefined): number | undefined {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** The switch to WAL the doctor did or saw, if it knows one. */
export async function walSwitch(dbPath: string): Promise<WalSwitch | undefined> {
  const m = await readMarker(dbPath);
  const at = time(m.walEnabledAt?.[path.basename(dbPath)]);
  if (at === undefined) return undefined;
  const runStartedAt = time(m.walSwitchStartedAt?.[path.basename(dbPath)]);
  return runStartedAt !== undefined ? { at, runStartedAt } : { at };
}

/** Epoch ms of the switch to WAL the doctor did or saw, if it knows one. */
export async function walSwitchTime(dbPath: string): Promise<number | undefined> {
  return (await walSwitch(dbPath))?.at;
}

/** Records the switch (best effort: a read-only folder only costs the history rule its precision). */
export async function recordWalSwitch(dbPath: string, at = Date.now(), runStartedAt?: number): Promise<void> {
  const m = await readMarker(dbPath);
  const name = path.basename(dbPath);
  m.walEnabledAt = { ...(m.walEnabledAt ?? {}), [name]: new Date(at).toISOString() };
  const starts = { ...(m.walSwitchStartedAt ?? {}) };
  if (runStartedAt !== undefined) starts[name] = new Date(runStartedAt).toISOString();
  else delete starts[name];
  m.walSwitchStartedAt = starts;
  const file = markerPath(dbPath);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(m, null, 2) + '\n');
    await fs.rename(tmp, file);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}
