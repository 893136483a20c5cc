// The storage-code lint on real source shapes for each driver: what it reports, and that
// its fixes give code that still compiles and lints clean.
import * as assert from 'node:assert/strict';
import ts from 'typescript';
import { applyEdits, lintSource, type LintResult } from '../../../src/lint/pragmaLint';

function codes(r: LintResult): string[] {
  return r.findings.map((f) => f.code).sort();
}

function compiles(text: string, file = 'x.ts'): void {
  const out = ts.transpileModule(text, { fileName: file, reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.CommonJS } });
  assert.deepEqual(
    (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    [],
  );
}

/** Applies the whole-file fix; the result compiles and lints clean. */
function fixAll(file: string, text: string): string {
  const r = lintSource(file, text);
  const fix = r.fixes.find((f) => f.kind === 'source');
  assert.ok(fix, 'a whole-file fix is offered');
  const fixed = applyEdits(text, fix.edits);
  compiles(fixed, file);
  assert.deepEqual(codes(lintSource(file, fixed)), [], fixed);
  return fixed;
}

const DEMO = `import Database from 'better-sqlite3';
import type { Trace } from './types';

// Opens the trace store. (RUNBOOK-002: no journal_mode, busy_timeout or synchronous set here.)
export class SqliteStorage {
  private db: Database.Database;

  constructor(dbPath: string) {
    this.db = new Database(dbPath);
  }
}
`;

describe('storage lint: better-sqlite3', () => {
  it("the demo storage file: all three missing, fixed the runbook's way", () => {
    const r = lintSource('storage-sqlite.ts', DEMO);
    assert.deepEqual(codes(r), ['no-busy-timeout', 'no-wal', 'synchronous-not-normal']);
    assert.equal(r.findings.find((f) => f.code === 'no-busy-timeout')!.severity, 'information', 'better-sqlite3 defaults to 5 s: no crying wolf');
    const at = DEMO.slice(r.findings[0].start, r.findings[0].end);
    assert.equal(at, 'new Database(dbPath)');
    const fixed = fixAll('storage-sqlite.ts', DEMO);
    assert.ok(
      fixed.includes(`    this.db = new Database(dbPath);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('synchronous = NORMAL');
  }`),
      fixed,
    );
  });

  it("the runbook's own long-term fix is clean", () => {
    const text = `import Database from 'better-sqlite3';
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
`;
    assert.deepEqual(codes(lintSource('a.ts', text)), []);
  });

  it('some pragmas set; a timeout constructor option counts; a low one is raised in place', () => {
    const text = `import Database from "better-sqlite3"
const db = new Database("x.db", { timeout: 1000 })
db.pragma("journal_mode = WAL")
`;
    const r = lintSource('a.ts', text);
    assert.deepEqual(codes(r), ['busy-timeout-low', 'synchronous-not-normal']);
    const fixed = fixAll('a.ts', text);
    assert.match(fixed, /timeout: 5000/);
    assert.match(fixed, /db\.pragma\("synchronous = NORMAL"\)\n/, 'double quotes and no semicolons, like the file');
  });

  it('a journal_mode set to something else is replaced in place', () => {
    const text = `import Database from 'better-sqlite3';\nconst db = new Database('x');\ndb.pragma('journal_mode = DELETE');\ndb.pragma('busy_timeout = 5000');\ndb.pragma('synchronous = NORMAL');\n`;
    const r = lintSource('a.ts', text);
    assert.deepEqual(codes(r), ['journal-mode-not-wal']);
    assert.match(fixAll('a.ts', text), /journal_mode = WAL/);
  });

  it('pragmas through exec with several statements', () => {
    const text = `import Database from 'better-sqlite3';\nconst db = new Database('x');\ndb.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 100; PRAGMA synchronous = FULL;");\n`;
    const r = lintSource('a.ts', text);
    assert.deepEqual(codes(r), ['busy-timeout-low', 'synchronous-not-normal']);
    const fixed = fixAll('a.ts', text);
    assert.match(fixed, /PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;/);
  });

  it('a class field initialiser: pragmas go into the constructor, after super()', () => {
    const text = `import Database from 'better-sqlite3';
class Base {}
export class Store extends Base {
\tprivate db = new Database('t.db');
\tconstructor() {
\t\tsuper();
\t\tconsole.log('ready');
\t}
}
`;
    const fixed = fixAll('a.ts', text);
    assert.ok(fixed.includes(`\t\tsuper();\n\t\tthis.db.pragma('journal_mode = WAL');`), fixed);
  });

  it('two databases in one file are fixed separately; the quick fix for one leaves the other', () => {
    const text = `import Database from 'better-sqlite3';\nconst a = new Database('a.db');\nconst b = new Database('b.db');\nb.pragma('journal_mode = WAL');\n`;
    const r = lintSource('a.ts', text);
    assert.equal(new Set(r.findings.map((f) => f.db)).size, 2);
    const quick = r.fixes.filter((f) => f.kind === 'quickfix' && f.isPreferred);
    assert.equal(quick.length, 2);
    const onlyA = applyEdits(text, quick[0].edits);
    compiles(onlyA);
    assert.ok(lintSource('a.ts', onlyA).findings.every((f) => f.db === 1));
    fixAll('a.ts', text);
  });

  it('require() style', () => {
    const text = `const Database = require('better-sqlite3');\nconst db = new Database('x');\nmodule.exports = db;\n`;
    assert.deepEqual(codes(lintSource('a.js', text)), ['no-busy-timeout', 'no-wal', 'synchronous-not-normal']);
    fixAll('a.js', text);
  });
});

describe('storage lint: sqlite3, @vscode/sqlite3, node:sqlite', () => {
  it('sqlite3: new sqlite3.Database, run and configure', () => {
    const text = `import sqlite3 from 'sqlite3';\nexport function open(p: string) {\n  const db = new sqlite3.Database(p);\n  return db;\n}\n`;
    const r = lintSource('a.ts', text);
    assert.deepEqual(codes(r), ['no-busy-timeout', 'no-wal', 'synchronous-not-normal']);
    assert.equal(r.findings.find((f) => f.code === 'no-busy-timeout')!.severity, 'warning', 'node-sqlite3 waits only 1 s');
    const fixed = fixAll('a.ts', text);
    assert.match(fixed, / {2}db\.run\('PRAGMA journal_mode = WAL'\);\n {2}db\.configure\('busyTimeout', 5000\);/);
  });

  it('@vscode/sqlite3 with verbose() and a configured timeout', () => {
    const text = `const sqlite3 = require('@vscode/sqlite3');\nconst db = new (sqlite3.verbose()).Database('x');\ndb.configure('busyTimeout', 8000);\ndb.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL');\n`;
    assert.deepEqual(codes(lintSource('a.js', text)), []);
  });

  it('node:sqlite DatabaseSync: no default timeout at all', () => {
    const text = `import { DatabaseSync } from 'node:sqlite';\nconst db = new DatabaseSync('x.db');\n`;
    const r = lintSource('a.ts', text);
    assert.equal(r.findings.find((f) => f.code === 'no-busy-timeout')!.severity, 'warning');
    assert.match(fixAll('a.ts', text), /db\.exec\('PRAGMA busy_timeout = 5000'\);/);
  });
});

describe('storage lint: no false alarms', () => {
  it('files that only mention the drivers in comments or strings', () => {
    const text = `// we used to import Database from 'better-sqlite3' here\nconst s = "new Database('x') from sqlite3";\nexport const note = 'node:sqlite';\n`;
    assert.deepEqual(lintSource('a.ts', text), { findings: [], fixes: [] });
  });

  it('a Database class from another package is not SQLite', () => {
    const text = `import { Database } from './my-orm';\nimport 'better-sqlite3';\nconst db = new Database('x');\n`;
    assert.deepEqual(codes(lintSource('a.ts', text)), []);
  });

  it('a computed pragma string is not guessed at', () => {
    const text = `import Database from 'better-sqlite3';\nconst db = new Database('x');\ndb.pragma(\`busy_timeout = \${t}\`);\ndb.pragma('journal_mode = WAL');\ndb.pragma('synchronous = NORMAL');\n`;
    assert.deepEqual(codes(lintSource('a.ts', text)), []);
  });
});
