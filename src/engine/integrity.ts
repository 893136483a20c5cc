// PRAGMA quick_check reads every page. On a rollback-journal database that would hold
// a SHARED lock for seconds and make the proxy fail, so there it runs on a fresh backup
// copy (taken in short steps) instead of the live file.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { backupDatabase } from './backup';
import { withFileGate } from './fileGate';
import { readHeader } from './header';
import { withConnection } from './sqlite';
import type { IntegrityResult, ProgressEvent } from './types';

export interface IntegrityOptions {
  busyTimeoutMs?: number;
  onProgress?: (e: ProgressEvent) => void;
}

export async function integrityCheck(dbPath: string, opts: IntegrityOptions = {}): Promise<IntegrityResult> {
  const started = performance.now();
  const head = await withFileGate(dbPath, () => readHeader(dbPath));
  const onCopy = !head.header?.wal;
  let target = dbPath;
  let tmpDir: string | undefined;
  try {
    if (onCopy) {
      tmpDir = await fs.mkdtemp(path.join(path.dirname(dbPath), '.tracedb-check-'));
      target = path.join(tmpDir, 'copy.db');
      opts.onProgress?.({ message: 'Copying the database so the check does not lock it…' });
      await backupDatabase(dbPath, { out: target, onProgress: opts.onProgress, busyTimeoutMs: opts.busyTimeoutMs });
    }
    opts.onProgress?.({ message: 'Running quick_check…' });
    const rows = await withFileGate(target, () =>
      withConnection(target, { readonly: true, busyTimeoutMs: opts.busyTimeoutMs ?? 250 }, (c) =>
        c.all<{ quick_check: string }>('PRAGMA quick_check(20)'),
      ),
    );
    const messages = rows.map((r) => r.quick_check);
    return { ok: messages.length === 1 && messages[0] === 'ok', messages, onCopy, durationMs: Math.round(performance.now() - started) };
  } catch (e) {
    return { ok: false, messages: [String((e as Error).message)], onCopy, durationMs: Math.round(performance.now() - started) };
  } finally {
    if (tmpDir) await fs.rm(tmpDir, { recursive: true, force: true });
  }
}
