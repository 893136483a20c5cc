// The connection-per-call rule: a SQLite connection opened in code that runs per request is
// flagged; code that evidently opens once (module level, constructor, lazy cache, factory)
// is not, and the pragma findings and fixes are unchanged by it.
import * as assert from 'node:assert/strict';
import { applyEdits, lintSource, type LintFinding } from '../../../src/lint/pragmaLint';

const PRAGMAS = `db.pragma('journal_mode = WAL');\n  db.pragma('busy_timeout = 5000');\n  db.pragma('synchronous = NORMAL');`;

function perCall(text: string, file = 'a.ts'): LintFinding[] {
  return lintSource(file, text).findings.filter((f) => f.code === 'connection-per-call');
}

/** The text each per-call finding is on. */
function flagged(text: string, file = 'a.ts'): string[] {
  return perCall(text, file).map((f) => text.slice(f.start, f.end));
}

describe('storage lint: connection-per-call flags a connection opened on every call', () => {
  it('a request handler: a warning on the constructor call that says what to do, and no fix claims it', () => {
    const text = `import Database from 'better-sqlite3';
export async function handle(req: { body: string }) {
  const db = new Database(path);
  ${PRAGMAS}
  db.prepare('INSERT INTO traces (body) VALUES (?)').run(req.body);
  db.close();
}
`;
    const r = lintSource('a.ts', text);
    assert.deepEqual(
      r.findings.map((f) => f.code),
      ['connection-per-call'],
      'the pragmas are set: only the per-call open is left',
    );
    const [f] = r.findings;
    assert.equal(f.severity, 'warning');
    assert.equal(text.slice(f.start, f.end), 'new Database(path)');
    assert.equal(
      f.message,
      'new Database(…) in handle() opens a new SQLite connection on every call: ' +
        'that defeats WAL\'s benefit and multiplies lock contention ("database is locked"). ' +
        'Open it once and reuse it: at module level or in the constructor, ' +
        'or cache it on first use (this.db ??= new Database(…)) (RUNBOOK-002: connection pooling).',
    );
    assert.deepEqual(r.fixes, [], 'no automatic fix');
  });

  it('an Express route callback', () => {
    const text = `import express from 'express';
import Database from 'better-sqlite3';
const app = express();
app.get('/traces', (req, res) => {
  const db = new Database('traces.db', { readonly: true });
  res.json(db.prepare('SELECT * FROM traces').all());
});
`;
    const [f] = perCall(text);
    assert.ok(f);
    assert.match(f.message, /^new Database\(…\) in this function opens a new SQLite connection on every call/);
  });

  it('a class method other than the constructor, also when it stores the connection on this', () => {
    const text = `import Database from 'better-sqlite3';
export class Store {
  constructor(private readonly path: string) {}
  save(id: string) {
    const db = new Database(this.path);
    db.prepare('INSERT INTO traces (id) VALUES (?)').run(id);
  }
  query(sql: string) {
    this.db = new Database(this.path);
    return this.db.prepare(sql).all();
  }
  handler = (id: string) => new Database(this.path).prepare('SELECT 1').get(id);
}
`;
    assert.deepEqual(flagged(text), ['new Database(this.path)', 'new Database(this.path)', 'new Database(this.path)']);
    assert.match(perCall(text)[0].message, / in save\(\) /);
    assert.match(perCall(text)[2].message, / in handler\(\) /);
  });

  it('the pragma findings and their fixes stay as they were; the per-call one is left after the fix', () => {
    const text = `import Database from 'better-sqlite3';\nexport function saveTrace(p: string) {\n  const db = new Database(p);\n  db.close();\n}\n`;
    const r = lintSource('a.ts', text);
    assert.deepEqual(r.findings.map((f) => f.code).sort(), ['connection-per-call', 'no-busy-timeout', 'no-wal', 'synchronous-not-normal']);
    const perCallIndex = r.findings.findIndex((f) => f.code === 'connection-per-call');
    assert.equal(perCallIndex, 3, 'after the pragma findings');
    assert.equal(r.findings[perCallIndex].db, 0, 'the same database as the pragma findings');
    assert.ok(r.fixes.every((fix) => !fix.findings.includes(perCallIndex)));
    const fix = r.fixes.find((x) => x.kind === 'source')!;
    const fixed = applyEdits(text, fix.edits);
    assert.deepEqual(
      lintSource('a.ts', fixed).findings.map((f) => f.code),
      ['connection-per-call'],
    );
  });

  it('every constructor the linter knows: sqlite3, @vscode/sqlite3, node:sqlite', () => {
    const sqlite3 = `import sqlite3 from 'sqlite3';
export function list(cb: () => void) {
  const db = new sqlite3.Database('x.db');
  db.all('SELECT 1', cb);
}
`;
    assert.deepEqual(flagged(sqlite3), ["new sqlite3.Database('x.db')"]);
    const verbose = `const sqlite3 = require('@vscode/sqlite3');
function list() {
  const db = new (sqlite3.verbose()).Database('x.db');
  return db.all('SELECT 1');
}
`;
    assert.deepEqual(flagged(verbose, 'a.js'), ["new (sqlite3.verbose()).Database('x.db')"]);
    const nodeSqlite = `import { DatabaseSync } from 'node:sqlite';
export const count = () => {
  const db = new DatabaseSync('x.db');
  return db.prepare('SELECT count(*) FROM traces').get();
};
`;
    assert.deepEqual(flagged(nodeSqlite), ["new DatabaseSync('x.db')"]);
  });

  it('a getter that opens a fresh connection each time, and a guard on a local, are not caches', () => {
    const getter = `import Database from 'better-sqlite3';\nexport function getDb() {\n  return new Database('x.db');\n}\n`;
    assert.deepEqual(flagged(getter), ["new Database('x.db')"]);
    const localGuard = `import Database from 'better-sqlite3';
export function handle() {
  let db;
  if (!db) db = new Database('x.db');
  return db.prepare('SELECT 1').get();
}
`;
    assert.deepEqual(flagged(localGuard), ["new Database('x.db')"]);
  });

  it('an open kept in no variable gets a database number of its own', () => {
    const text = `import Database from 'better-sqlite3';
const main = new Database('a.db');
export function handle(id: string) {
  return new Database('b.db').prepare('SELECT 1').get(id);
}
`;
    const [f] = perCall(text);
    assert.equal(text.slice(f.start, f.end), "new Database('b.db')");
    const pragmaDbs = new Set(
      lintSource('a.ts', text)
        .findings.filter((x) => x.code !== 'connection-per-call')
        .map((x) => x.db),
    );
    assert.deepEqual([...pragmaDbs], [0]);
    assert.equal(f.db, 1);
  });
});

describe('storage lint: connection-per-call spares connections opened once', () => {
  it('module level, including a lazy guard at module scope', () => {
    const text = `import Database from 'better-sqlite3';
export const db = new Database('x.db');
let other: Database.Database | undefined;
if (!other) other = new Database('y.db');
`;
    assert.deepEqual(flagged(text), []);
  });

  it('the constructor, a class field initialiser and a static block', () => {
    const text = `import Database from 'better-sqlite3';
export class Store {
  private a = new Database('a.db');
  private static shared: Database.Database;
  static {
    Store.shared = new Database('shared.db');
  }
  private b: Database.Database;
  constructor(p: string) {
    this.b = new Database(p);
  }
}
`;
    assert.deepEqual(flagged(text), []);
  });

  it('lazy cached getters: ??=, if (!db), an early return, a pool map', () => {
    const text = `import Database from 'better-sqlite3';
let db: Database.Database | undefined;
let instance: Database.Database | null = null;
const pool = new Map<string, Database.Database>();
export class Store {
  private _db?: Database.Database;
  get db() {
    return (this._db ??= new Database('a.db'));
  }
  conn() {
    if (!this._db) {
      this._db = new Database('b.db');
    }
    return this._db;
  }
}
export function getDb() {
  if (!db) db = new Database('c.db');
  return db;
}
export function getDbInstance() {
  if (instance) return instance;
  instance = new Database('d.db');
  return instance;
}
export const lazy = () => db || (db = new Database('e.db'));
export function dbFor(path: string) {
  let found = pool.get(path);
  if (!found) {
    found = new Database(path);
    pool.set(path, found);
  }
  return found;
}
app.get('/x', (req, res) => {
  db ??= new Database('f.db');
  res.json(db.prepare('SELECT 1').get());
});
`;
    assert.deepEqual(flagged(text), []);
  });

  it('openers that hand the connection on, and set-up code that runs once', () => {
    const text = `import Database from 'better-sqlite3';
export function openDb(p: string) {
  const db = new Database(p);
  db.pragma('journal_mode = WAL');
  return db;
}
export const connect = (p: string) => new Database(p);
export function createStorage(p: string) {
  const db = new Database(p);
  return { db, close: () => db.close() };
}
async function main() {
  const db = new Database('x.db');
  db.exec('VACUUM');
}
void main();
(async () => {
  const db = new Database('y.db');
  db.exec('VACUUM');
})();
`;
    assert.deepEqual(flagged(text), []);
  });

  it('test hooks: a fresh connection per test is intended', () => {
    const text = `import Database from 'better-sqlite3';
let db: Database.Database;
beforeEach(() => {
  db = new Database(':memory:');
});
describe('store', () => {
  it('reads', () => {
    const mem = new Database(':memory:');
    mem.close();
  });
});
`;
    assert.deepEqual(flagged(text), []);
  });

  it("the real TraceForge storage class, which opens in its constructor, before and after the runbook's fix", () => {
    const text = `import Database from "better-sqlite3";
import { resolve } from "path";
import type { Trace, StorageBackend } from "@traceforge/shared";

export class SQLiteStorageBackend implements StorageBackend {
  private db: Database.Database;

  constructor(dbPath?: string) {
    const path = dbPath || resolve(process.cwd(), ".ai-tests/traces.db");
    this.db = new Database(path);
    this.initSchema();
  }

  private initSchema() {
    this.db.exec(\`CREATE TABLE IF NOT EXISTS traces (id TEXT PRIMARY KEY, request JSON NOT NULL)\`);
  }

  async saveTrace(trace: Trace): Promise<void> {
    const stmt = this.db.prepare("INSERT OR REPLACE INTO traces (id, request) VALUES (?, ?)");
    stmt.run(trace.id, JSON.stringify(trace.request));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
`;
    const r = lintSource('storage-sqlite.ts', text);
    assert.deepEqual(r.findings.map((f) => f.code).sort(), ['no-busy-timeout', 'no-wal', 'synchronous-not-normal']);
    const fixed = applyEdits(text, r.fixes.find((f) => f.kind === 'source')!.edits);
    assert.deepEqual(lintSource('storage-sqlite.ts', fixed).findings, []);
  });
});
