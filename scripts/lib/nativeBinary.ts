// Which platform a native addon was built for, from its first bytes (ELF, Mach-O or PE).
// A platform VSIX must carry @vscode/sqlite3's .node built for that platform: one built on the
// wrong runner would install fine and fail on the first require, so packaging checks it first.

/** The platform VSIXs we build, each on a native runner (`.github/workflows/release.yml`). */
export const PLATFORM_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'] as const;
export type PlatformTarget = (typeof PLATFORM_TARGETS)[number];

export type BinaryPlatform = 'linux' | 'darwin' | 'win32';

export interface BinaryKind {
  format: 'ELF' | 'Mach-O' | 'PE';
  /** ELF is taken as Linux: the only ELF target VS Code publishes for. */
  platform: BinaryPlatform;
  /** Node's names (`x64`, `arm64`, `ia32`, `arm`); a universal Mach-O lists each slice; `unknown(N)` for other machines. */
  archs: string[];
}

/** How many bytes `describeBinary` needs at most (a PE header sits at the offset the DOS header names, usually < 1 KiB). */
export const HEADER_BYTES = 4096;

const ELF_MACHINES: Record<number, string> = { 0x03: 'ia32', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64' };
const MACHO_CPUS: Record<number, string> = { 0x00000007: 'ia32', 0x0000000c: 'arm', 0x01000007: 'x64', 0x0100000c: 'arm64' };
const PE_MACHINES: Record<number, string> = { 0x014c: 'ia32', 0x01c4: 'arm', 0x8664: 'x64', 0xaa64: 'arm64' };

const name = (table: Record<number, string>, n: number) => table[n] ?? `unknown(0x${n.toString(16)})`;

/** The format, platform and architectures of an executable from its first bytes; undefined when it is none of the three. */
export function describeBinary(bytes: Uint8Array): BinaryKind | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (offset: number, length: number) => offset >= 0 && offset + length <= bytes.byteLength;
  if (!has(0, 4)) return undefined;
  const magic = view.getUint32(0, false);

  if (magic === 0x7f454c46 && has(18, 2)) {
    // e_machine follows e_ident (16 bytes) and e_type, in the byte order EI_DATA names.
    const littleEndian = bytes[5] !== 2;
    return { format: 'ELF', platform: 'linux', archs: [name(ELF_MACHINES, view.getUint16(18, littleEndian))] };
  }

  // Thin Mach-O: 0xfeedface / 0xfeedfacf in either byte order; cputype right after the magic.
  const thin = [0xfeedface, 0xfeedfacf].find((m) => m === magic || m === view.getUint32(0, true));
  if (thin !== undefined && has(4, 4)) {
    const littleEndian = view.getUint32(0, true) === thin;
    return { format: 'Mach-O', platform: 'darwin', archs: [name(MACHO_CPUS, view.getUint32(4, littleEndian))] };
  }

  // Universal Mach-O (fat, always big-endian): a count, then one record per slice, cputype first.
  if ((magic === 0xcafebabe || magic === 0xcafebabf) && has(8, 0)) {
    const count = view.getUint32(4, false);
    const recordSize = magic === 0xcafebabe ? 20 : 32;
    // Java class files share 0xcafebabe; their "count" (a version) is far above any real slice count.
    if (count === 0 || count > 16 || !has(8, count * recordSize)) return undefined;
    const archs: string[] = [];
    for (let i = 0; i < count; i++) archs.push(name(MACHO_CPUS, view.getUint32(8 + i * recordSize, false)));
    return { format: 'Mach-O', platform: 'darwin', archs };
  }

  // PE: 'MZ', e_lfanew at 0x3c points at 'PE\0\0', then the COFF header's Machine.
  if (bytes[0] === 0x4d && bytes[1] === 0x5a && has(0x3c, 4)) {
    const pe = view.getUint32(0x3c, true);
    if (has(pe, 6) && view.getUint32(pe, false) === 0x50450000) {
      return { format: 'PE', platform: 'win32', archs: [name(PE_MACHINES, view.getUint16(pe + 4, true))] };
    }
  }
  return undefined;
}

/** `linux-x64`, `darwin-arm64`, … for a platform and one architecture, as VS Code names targets. */
export function targetOf(platform: BinaryPlatform, arch: string): string {
  return `${platform}-${arch}`;
}

/**
 * Why this native file cannot go into a VSIX for `target`, or undefined when it can.
 * `what` names the file in the message.
 */
export function nativeMismatch(target: PlatformTarget, header: Uint8Array, what: string): string | undefined {
  const kind = describeBinary(header);
  const fix = `build @vscode/sqlite3 on a ${target} runner: npm rebuild @vscode/sqlite3`;
  if (!kind) return `${what} is not an ELF, Mach-O or PE binary; ${fix}`;
  const built = kind.archs.map((a) => targetOf(kind.platform, a));
  if (built.includes(target)) return undefined;
  return `${what} was built for ${built.join(' + ')} (${kind.format}), not ${target}; ${fix}`;
}
