// Moves the WAL's pages back into the database file. PASSIVE never waits; TRUNCATE
// waits (busy timeout) for readers to leave so it can reset the -wal file to zero.
import * as path from 'node:path';
import { statFile } from './dbFiles';
import { DoctorError } from './errors';
import { withFileGate } from './fileGate';
import { readHeader } from './header';
import { isBusy, withConnection } from './sqlite';
import type { CheckpointResult } from './types';

export async function checkpoint(dbPath: string, mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE', busyTimeoutMs = 2000): Promise<CheckpointResult> {
  dbPath = path.resolve(dbPath);
  const name = path.basename(dbPath);
  const head = await withFileGate(dbPath, () => readHeader(dbPath)).catch((e: Error) => {
    throw new DoctorError(`Cannot checkpoint ${dbPath}: ${e.message}.`);
  });
  if (!head.header) throw new DoctorError(`Cannot checkpoint ${dbPath}: it is not a readable SQLite database (${head.problem.kind}).`);
  if (!head.header.wal) throw new DoctorError(`${name} is not in WAL mode, so there is no WAL to checkpoint. Enable WAL first.`);
  const before = (await statFile(`${dbPath}-wal`)).size;
  let row: { busy: number; log: number; checkpointed: number } | undefined;
  try {
    row = await withFileGate(dbPath, () =>
      withConnection(dbPath, { readonly: false, busyTimeoutMs }, (c) =>
        c.get<{ busy: number; log: number; checkpointed: number }>(`PRAGMA wal_checkpoint(${mode})`),
      ),
    );
  } catch (e) {
    if (isBusy(e)) throw new DoctorError(`The checkpoint could not start: another checkpoint or a writer held the lock for ${busyTimeoutMs} ms. Try again in a moment.`);
    throw new DoctorError(`The checkpoint of ${name} failed: ${(e as Error).message}.`);
  }
  const after = (await statFile(`${dbPath}-wal`)).size;
  const busy = row?.busy === 1;
  const walFrames = row?.log ?? 0;
  const checkpointedFrames = row?.checkpointed ?? 0;
  return {
    ok: !busy,
    mode,
    busy,
    walFrames,
    checkpointedFrames,
    walSizeBefore: before,
    walSizeAfter: after,
    message: busy
      ? `Checkpoint ${mode} copied ${checkpointedFrames} of ${walFrames} frames but could not finish: a reader or writer was in the way. Look for a long read transaction (Show Processes Holding the Database).`
      : `Checkpoint ${mode} done: ${checkpointedFrames} of ${walFrames} frames copied; -wal ${before} → ${after} bytes.`,
  };
}
