// Moves the WAL's pages back into the database file, without ever making the proxy wait.
//
// TRUNCATE (and RESTART) take the WAL write lock and then wait, through the busy handler,
// for readers to leave: the proxy cannot commit meanwhile. With a long reader present a
// 2 s busy timeout stalled every commit for 2 s (issue 11, 2.07 s commits). So:
// - PASSIVE first: it copies what it can and never blocks anyone;
// - TRUNCATE only when PASSIVE copied every frame, with no busy wait at all (a few quick
//   tries between the proxy's commits), so it holds the write lock only for the reset;
// - when a reader pins the WAL, the result names it (its WAL_READ lock) instead of waiting.
import * as path from 'node:path';
import { realDbPath, statFile } from '../diagnose/dbFiles';
import { DoctorError } from '../errors';
import { withFileGate } from '../sqlite/fileGate';
import { readHeader } from '../sqlite/header';
import { sampleLocks } from '../locks/sampleLocks';
import { isBusy, withConnection } from '../sqlite/connection';
import type { CheckpointResult, Holder } from '../../shared/model';

/** Tries of the non-waiting TRUNCATE: each lands between two of the proxy's commits or gives way at once. */
const TRUNCATE_TRIES = 5;
const MIN_RETRY_MS = 2;
const MAX_RETRY_MS = 20;

type Row = { busy: number; log: number; checkpointed: number };

export async function checkpoint(dbPath: string, mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE', busyTimeoutMs = 200): Promise<CheckpointResult> {
  dbPath = path.resolve(dbPath);
  const name = path.basename(dbPath);
  const head = await withFileGate(dbPath, () => readHeader(dbPath)).catch((e: Error) => {
    throw new DoctorError(`Cannot checkpoint ${dbPath}: ${e.message}.`);
  });
  if (!head.header) throw new DoctorError(`Cannot checkpoint ${dbPath}: it is not a readable SQLite database (${head.problem.kind}).`);
  if (!head.header.wal) throw new DoctorError(`${name} is not in WAL mode, so there is no WAL to checkpoint. Enable WAL first.`);
  const walPath = `${await realDbPath(dbPath)}-wal`;
  const before = (await statFile(walPath)).size;

  // busyTimeoutMs covers opening the connection and reading the WAL index only: a
  // PASSIVE checkpoint never invokes the busy handler, the TRUNCATE below has none.
  const run = (m: 'PASSIVE' | 'TRUNCATE', timeoutMs: number) =>
    withFileGate(dbPath, () => withConnection(dbPath, { readonly: false, busyTimeoutMs: timeoutMs }, (c) => c.get<Row>(`PRAGMA wal_checkpoint(${m})`)));
  let row: Row | undefined;
  let truncated = false;
  try {
    row = await run('PASSIVE', busyTimeoutMs);
    if (mode === 'TRUNCATE' && row && row.busy === 0 && row.checkpointed === row.log) {
      for (let i = 0; i < TRUNCATE_TRIES; i++) {
        const t = await run('TRUNCATE', 0).catch((e: unknown) => {
          if (isBusy(e)) return undefined;
          throw e;
        });
        if (t && t.busy === 0) {
          row = t;
          truncated = true;
          break;
        }
        await new Promise((r) => setTimeout(r, MIN_RETRY_MS + Math.random() * (MAX_RETRY_MS - MIN_RETRY_MS)));
      }
    }
  } catch (e) {
    if (isBusy(e))
      throw new DoctorError(`The checkpoint could not start: another checkpoint or a recovery held the lock for ${busyTimeoutMs} ms. Try again in a moment.`);
    throw new DoctorError(`The checkpoint of ${name} failed: ${(e as Error).message}.`);
  }
  const after = (await statFile(walPath)).size;
  const walFrames = row?.log ?? 0;
  const checkpointedFrames = row?.checkpointed ?? 0;
  const complete = row?.busy === 0 && checkpointedFrames === walFrames;
  const busy = mode === 'TRUNCATE' ? !truncated : row?.busy === 1;

  let blockers: Holder[] = [];
  let why = '';
  if (busy || !complete) {
    const sample = await sampleLocks(dbPath);
    // A reader's snapshot mark (WAL_READ) keeps its frames in the WAL until it ends.
    blockers = sample.holders.filter((h) => !h.self && h.locks.includes('WAL_READ'));
    why = blockers.length
      ? ` A read transaction keeps the WAL pinned: ${blockers.map((b) => `PID ${b.pid} (${b.label}: ${b.command.length > 80 ? `${b.command.slice(0, 79)}…` : b.command})`).join(', ')}. End that transaction (close the session) or stop that process (Kill Blocking Process), then checkpoint again.`
      : complete
        ? ' The proxy was committing each time the WAL was to be reset; nothing waited for it. Checkpoint again in a moment.'
        : ' A reader or writer was in the way, but none holds a lock now. Checkpoint again in a moment.';
  }
  const done = `${checkpointedFrames} of ${walFrames} frames copied into ${name}`;
  return {
    ok: !busy,
    mode,
    busy,
    walFrames,
    checkpointedFrames,
    walSizeBefore: before,
    walSizeAfter: after,
    blockers,
    message: busy
      ? mode === 'TRUNCATE'
        ? `Checkpoint: ${done}, but the -wal file was not reset (${before} → ${after} bytes); the proxy was never made to wait.${why}`
        : `Checkpoint: ${done}; the rest could not be copied yet.${why}`
      : `Checkpoint ${mode} done: ${done}; -wal ${before} → ${after} bytes.${why}`,
  };
}
