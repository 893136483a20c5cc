// The platform check `npm run package -- --target <t>` makes on @vscode/sqlite3's .node file,
// against headers recorded from real addons: ours (linux-x64) and node-pty's prebuilds for the others.
import * as assert from 'node:assert/strict';
import { PLATFORM_TARGETS, describeBinary, nativeMismatch, type PlatformTarget } from '../../../scripts/lib/nativeBinary';

const hex = (s: string) => Buffer.from(s, 'hex');

/** A PE file's first bytes: the recorded 64-byte DOS header, its stub zeroed, then the recorded PE signature and COFF header start at e_lfanew. */
function pe(dosHeader: string, coff: string): Buffer {
  const dos = hex(dosHeader);
  const at = dos.readUInt32LE(0x3c);
  const out = Buffer.alloc(at + coff.length / 2);
  dos.copy(out);
  hex(coff).copy(out, at);
  return out;
}

// e_lfanew = 0x110, as in node-pty's win32 conpty.node.
const DOS = '4d5a90000300000004000000ffff0000b80000000000000040000000000000000000000000000000000000000000000000000000000000000000000010010000';

const RECORDED: Record<string, { bytes: Buffer; target: string; format: string }> = {
  'ELF x86-64 (@vscode/sqlite3, built here)': { bytes: hex('7f454c4602010100000000000000000003003e0001000000'), target: 'linux-x64', format: 'ELF' },
  'ELF aarch64 (node-pty linux-arm64)': { bytes: hex('7f454c460201010000000000000000000300b70001000000'), target: 'linux-arm64', format: 'ELF' },
  'Mach-O x86_64 (node-pty darwin-x64)': { bytes: hex('cffaedfe070000010300000008000000'), target: 'darwin-x64', format: 'Mach-O' },
  'Mach-O arm64 (node-pty darwin-arm64)': { bytes: hex('cffaedfe0c00000100000000080000000f000000'), target: 'darwin-arm64', format: 'Mach-O' },
  'PE x64 (node-pty win32-x64)': { bytes: pe(DOS, '50450000648608005e646d6a0000000000000000f0002220'), target: 'win32-x64', format: 'PE' },
  'PE arm64 (node-pty win32-arm64)': { bytes: pe(DOS, '5045000064aa080088646d6a0000000000000000f0002220'), target: 'win32-arm64', format: 'PE' },
};

describe('native binary header check (scripts/lib/nativeBinary)', () => {
  for (const [label, { bytes, target, format }] of Object.entries(RECORDED)) {
    it(`${label}: ${format}, built for ${target}`, () => {
      const kind = describeBinary(bytes);
      assert.ok(kind);
      assert.equal(kind.format, format);
      assert.equal(`${kind.platform}-${kind.archs.join('+')}`, target);
    });
  }

  it('accepts each recorded header for its own target and refuses it for every other, naming the fix', () => {
    for (const { bytes, target } of Object.values(RECORDED)) {
      for (const t of PLATFORM_TARGETS) {
        const problem = nativeMismatch(t, bytes, 'vscode-sqlite3.node');
        if (t === target) assert.equal(problem, undefined, `${target} for ${t}`);
        else {
          assert.ok(problem, `${target} accepted for ${t}`);
          assert.match(problem, new RegExp(`built for ${target} .*not ${t}; build @vscode/sqlite3 on a ${t} runner: npm rebuild @vscode/sqlite3$`));
        }
      }
    }
  });

  it('a universal Mach-O (fat) serves each architecture it holds', () => {
    // Magic, 2 slices, then per slice cputype, subtype, offset, size, align (big-endian).
    const fat = hex('cafebabe00000002' + '01000007000000030000100000001000' + '0000000c' + '0100000c000000000000200000001000' + '0000000e');
    assert.deepEqual(describeBinary(fat)?.archs, ['x64', 'arm64']);
    const darwin: PlatformTarget[] = ['darwin-x64', 'darwin-arm64'];
    for (const t of darwin) assert.equal(nativeMismatch(t, fat, 'x.node'), undefined);
    assert.match(nativeMismatch('linux-x64', fat, 'x.node') ?? '', /built for darwin-x64 \+ darwin-arm64 \(Mach-O\), not linux-x64/);
  });

  it('refuses what is no binary at all: text, a truncated header, a Java class file, an unknown machine', () => {
    assert.equal(describeBinary(Buffer.from('module.exports = 1;\n')), undefined);
    assert.equal(describeBinary(hex('7f454c')), undefined);
    assert.equal(describeBinary(hex('cafebabe00000034')), undefined);
    assert.equal(describeBinary(hex('4d5a90000300')), undefined);
    assert.match(
      nativeMismatch('linux-x64', Buffer.from('not a binary'), 'x.node') ?? '',
      /^x\.node is not an ELF, Mach-O or PE binary; build @vscode\/sqlite3 on a linux-x64 runner/,
    );
    assert.deepEqual(describeBinary(hex('7f454c4602010100000000000000000003000800'))?.archs, ['unknown(0x8)']);
  });

  it('reads a big-endian ELF by its own byte order', () => {
    assert.deepEqual(describeBinary(hex('7f454c460202010000000000000000000003003e')), { format: 'ELF', platform: 'linux', archs: ['x64'] });
  });
});
