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
}

function markerPath(dbPath: string): string {
  return path.join(path.dirname(dbPath), FILE);
}

async function readMarker(dbPath: string): Promise<Marker> {
  try {
    const m = JSON.parse(await fs.readFile(markerPath(dbPath), 'utf8')) as unknown;
    return m && typeof m === 'object' ? (m as Marker) : {};
  } catch {
    return {};
  }
}

/** Epoch ms of the switch to WAL the doctor did or saw, if it knows one. */
export async function walSwitchTime(dbPath: string): Promise<number | undefined> {
  const iso = (await readMarker(dbPath)).walEnabledAt?.[path.basename(dbPath)];
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** Records the switch (best effort: a read-only folder only costs the history rule its precision). */
export async function recordWalSwitch(dbPath: string, at = Date.now()): Promise<void> {
  const m = await readMarker(dbPath);
  m.walEnabledAt = { ...(m.walEnabledAt ?? {}), [path.basename(dbPath)]: new Date(at).toISOString() };
  const file = markerPath(dbPath);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await fs.writeFile(tmp, JSON.stringify(m, null, 2) + '\n');
    await fs.rename(tmp, file);
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}
