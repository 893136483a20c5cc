// package.json's contributions and the code agree: the command ids in src/shared/commandIds.ts,
// the settings and their defaults in src/shared/settings.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../../src/shared/commandIds';
import { SETTINGS } from '../../../src/shared/settings';

const ROOT = path.join(__dirname, '..', '..', '..');

interface Manifest {
  contributes: {
    commands: { command: string }[];
    menus?: Record<string, { command?: string; alt?: string }[]>;
    keybindings?: { command: string }[];
    viewsWelcome?: { contents: string }[];
    configuration: { properties: Record<string, { default?: unknown }> };
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const ids: string[] = Object.values(COMMANDS);

/** The src/ files below `dir`, as paths relative to the repository root. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = path.join(dir, d.name);
    return d.isDirectory() ? sources(rel) : d.name.endsWith('.ts') ? [rel] : [];
  });
}

describe('contributions: commands', () => {
  it('every contributed command has an id in commandIds.ts, and every id there is contributed', () => {
    const contributed = manifest.contributes.commands.map((c) => c.command);
    assert.equal(new Set(contributed).size, contributed.length, 'no command is contributed twice');
    assert.deepEqual([...contributed].sort(), [...ids].sort());
  });

  it('every command a menu, a keybinding or a welcome view link runs is one of them', () => {
    const used = [
      ...Object.values(manifest.contributes.menus ?? {}).flatMap((items) => items.flatMap((i) => [i.command, i.alt])),
      ...(manifest.contributes.keybindings ?? []).map((k) => k.command),
      ...(manifest.contributes.viewsWelcome ?? []).flatMap((w) => [...w.contents.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1])),
    ].filter((c): c is string => c !== undefined);
    assert.ok(used.length > 0);
    for (const command of used) assert.ok(ids.includes(command), `${command} is not in src/shared/commandIds.ts`);
  });

  it('src/ names a command only through COMMANDS: no id spelled out elsewhere', () => {
    const spelled: string[] = [];
    for (const file of sources('src')) {
      if (file === path.join('src', 'shared', 'commandIds.ts')) continue;
      // Comments may name a command; code may not.
      const code = fs
        .readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\/\/|\/?\*)/.test(line));
      for (const line of code) for (const m of line.matchAll(/(['"`]|command:)(tracedb\.\w+)/g)) if (ids.includes(m[2])) spelled.push(`${file}: ${m[0]}`);
    }
    assert.deepEqual(spelled, []);
  });
});

describe('contributions: settings', () => {
  const declared = manifest.contributes.configuration.properties;
  const settings = Object.values(SETTINGS);

  it('every contributed setting is in settings.ts, and every setting there is contributed', () => {
    assert.deepEqual(settings.map((s) => s.key).sort(), Object.keys(declared).sort());
  });

  it("package.json's defaults are the ones in settings.ts", () => {
    for (const s of settings) assert.deepEqual(declared[s.key]?.default, s.default, s.key);
  });
});
