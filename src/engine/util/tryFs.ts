// File reads that answer undefined where the file is missing or unreadable: procfs
// entries vanish as processes exit, and a missing file is an answer, not an error.
import { promises as fsp, type BigIntStats } from 'node:fs';

export async function readText(p: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** bigint: overlay and btrfs inode numbers can exceed 2^53. */
export async function statOrUndefined(p: string): Promise<BigIntStats | undefined> {
  try {
    return await fsp.stat(p, { bigint: true });
  } catch {
    return undefined;
  }
}
