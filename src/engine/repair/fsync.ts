// Making a finished copy durable before it is called a backup.
import * as fs from 'node:fs/promises';

/** Flushes a file to disk. Only for files no connection of this process has open: closing this descriptor would drop its locks. */
export async function fsyncFile(p: string): Promise<void> {
  const fh = await fs.open(p, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes a rename itself durable; some filesystems cannot open a directory, then it is best effort. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}
