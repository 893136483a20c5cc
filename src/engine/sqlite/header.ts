// Reads what the 100-byte SQLite header says without opening a SQLite connection:
// the passive poll must not take even a SHARED lock on a rollback-journal database
// (docs/DESIGN.md, "Rules", 1), and these bytes already say WAL or not, page size, page
// count, freelist and the change counter.
import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { NotRegularFileError, specialKindOf } from './fileGate';
import type { DbHeader } from '../../shared/model';

export const HEADER_SIZE = 100;
const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export type HeaderProblem =
  { kind: 'empty' } | { kind: 'not-a-database'; detail: string } | { kind: 'truncated'; detail: string } | { kind: 'corrupt'; detail: string };

export type HeaderRead = { header: DbHeader; problem?: undefined } | { header?: undefined; problem: HeaderProblem };

/** Parses a header buffer (at least 100 bytes, or fewer for a cut-off file). */
export function parseHeader(buf: Buffer): HeaderRead {
  if (buf.length === 0) return { problem: { kind: 'empty' } };
  const magicLen = Math.min(buf.length, MAGIC.length);
  if (!buf.subarray(0, magicLen).equals(MAGIC.subarray(0, magicLen))) {
    return { problem: { kind: 'not-a-database', detail: 'the file does not start with "SQLite format 3"' } };
  }
  if (buf.length < HEADER_SIZE) {
    return { problem: { kind: 'truncated', detail: `only ${buf.length} bytes: a SQLite header alone is 100` } };
  }
  const raw = buf.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    return { problem: { kind: 'corrupt', detail: `invalid page size ${raw} in the header` } };
  }
  const writeVersion = buf[18];
  const readVersion = buf[19];
  if (![1, 2].includes(writeVersion) || ![1, 2].includes(readVersion)) {
    return { problem: { kind: 'corrupt', detail: `invalid file format versions ${writeVersion}/${readVersion} in the header` } };
  }
  if (buf[21] !== 64 || buf[22] !== 32 || buf[23] !== 32) {
    return { problem: { kind: 'corrupt', detail: 'invalid payload fractions in the header' } };
  }
  const fileChangeCounter = buf.readUInt32BE(24);
  const pageCount = buf.readUInt32BE(28);
  const versionValidFor = buf.readUInt32BE(92);
  const enc = buf.readUInt32BE(56);
  return {
    header: {
      pageSize,
      writeVersion,
      readVersion,
      wal: writeVersion === 2 && readVersion === 2,
      fileChangeCounter,
      pageCount,
      // Older writers left the in-header size stale; SQLite trusts it only when
      // version-valid-for matches the change counter.
      pageCountValid: pageCount > 0 && versionValidFor === fileChangeCounter,
      freelistPages: buf.readUInt32BE(36),
      schemaCookie: buf.readUInt32BE(40),
      schemaFormat: buf.readUInt32BE(44),
      textEncoding: enc === 1 ? 'utf-8' : enc === 2 ? 'utf-16le' : enc === 3 ? 'utf-16be' : 'unknown',
      userVersion: buf.readUInt32BE(60),
      applicationId: buf.readUInt32BE(68),
      sqliteVersionNumber: buf.readUInt32BE(96),
    },
  };
}

/**
 * Opens a file the doctor reads raw (never a SQLite connection), refusing anything but a
 * regular file. O_NONBLOCK: a plain open() of a named pipe waits for a writer forever
 * (issue 11: backup, enable-wal and checkpoint on a FIFO never returned); the kind is
 * then read from the descriptor itself (fstat), so a file swapped in between cannot slip by.
 * Errors keep their errno code (ENOENT, EACCES, EISDIR; ENOTREG for pipes and devices)
 * and carry a message that reads after "Cannot read <path>: ".
 */
export async function openRegularFile(file: string): Promise<fs.FileHandle> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw readableFsError(e as NodeJS.ErrnoException);
  }
  try {
    const kind = specialKindOf(await fh.stat());
    if (kind) throw new NotRegularFileError(file, kind);
    return fh;
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
}

function readableFsError(e: NodeJS.ErrnoException): NodeJS.ErrnoException {
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    ENOTDIR: 'no such file (a part of the path is not a folder)',
    EACCES: 'permission denied; run as the user that runs the proxy, or give that user read access',
    EPERM: 'permission denied; run as the user that runs the proxy, or give that user read access',
    ELOOP: 'the path is a loop of symbolic links; point the doctor at the traces.db file itself',
    ENAMETOOLONG: 'the path is too long',
  };
  const text = e.code ? words[e.code] : undefined;
  if (!text) return e;
  const out = new Error(text) as NodeJS.ErrnoException;
  out.code = e.code;
  return out;
}

/** Reads and parses the header; fs errors (ENOENT, EACCES, EISDIR, ELOOP, ENOTREG) are thrown with their code. */
export async function readHeader(path: string): Promise<HeaderRead & { fileSize: number }> {
  const fh = await openRegularFile(path);
  try {
    const st = await fh.stat();
    const buf = Buffer.alloc(HEADER_SIZE);
    const { bytesRead } = await fh.read(buf, 0, HEADER_SIZE, 0);
    const parsed = parseHeader(buf.subarray(0, bytesRead));
    if (parsed.header) {
      const h = parsed.header;
      // A file shorter than the header's own size was cut off (disk full, interrupted copy).
      if (h.pageCountValid && st.size < h.pageCount * h.pageSize) {
        return {
          fileSize: st.size,
          problem: {
            kind: 'truncated',
            detail: `${st.size} bytes, but the header says ${h.pageCount} pages of ${h.pageSize} bytes (${h.pageCount * h.pageSize})`,
          },
        };
      }
      if (st.size % h.pageSize !== 0) {
        return { fileSize: st.size, problem: { kind: 'truncated', detail: `${st.size} bytes is not a whole number of ${h.pageSize}-byte pages` } };
      }
    }
    return { ...parsed, fileSize: st.size };
  } finally {
    await fh.close();
  }
}
