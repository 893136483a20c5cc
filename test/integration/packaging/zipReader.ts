// A VSIX is a zip: enough of a reader to list its entries and inflate one, from the central
// directory at the end of the file (no zip64: a VSIX is a few MB and a few dozen files).
import * as zlib from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

export class ZipFile {
  readonly entries: ZipEntry[] = [];

  constructor(private readonly data: Buffer) {
    // The end-of-central-directory record is the last 22 bytes, unless a comment (< 64 KiB) follows it.
    let eocd = -1;
    for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
      if (data.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error('not a zip file: no end-of-central-directory record');
    const count = data.readUInt16LE(eocd + 10);
    let at = data.readUInt32LE(eocd + 16);
    for (let i = 0; i < count; i++) {
      if (data.readUInt32LE(at) !== CENTRAL) throw new Error(`bad central directory entry ${i} at ${at}`);
      const nameLength = data.readUInt16LE(at + 28);
      const extraLength = data.readUInt16LE(at + 30);
      const commentLength = data.readUInt16LE(at + 32);
      this.entries.push({
        method: data.readUInt16LE(at + 10),
        compressedSize: data.readUInt32LE(at + 20),
        size: data.readUInt32LE(at + 24),
        localOffset: data.readUInt32LE(at + 42),
        name: data.toString('utf8', at + 46, at + 46 + nameLength),
      });
      at += 46 + nameLength + extraLength + commentLength;
    }
  }

  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** An entry's content (stored or deflated), or undefined when there is no such entry. */
  read(name: string): Buffer | undefined {
    const e = this.entries.find((x) => x.name === name);
    if (!e) return undefined;
    const d = this.data;
    if (d.readUInt32LE(e.localOffset) !== LOCAL) throw new Error(`bad local header for ${name}`);
    const start = e.localOffset + 30 + d.readUInt16LE(e.localOffset + 26) + d.readUInt16LE(e.localOffset + 28);
    const raw = d.subarray(start, start + e.compressedSize);
    if (e.method === 0) return Buffer.from(raw);
    if (e.method === 8) return zlib.inflateRawSync(raw);
    throw new Error(`${name}: unsupported compression method ${e.method}`);
  }
}
