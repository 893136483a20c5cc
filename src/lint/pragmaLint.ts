// RUNBOOK-002's long-term fix, found and made in code: storage code that opens a SQLite
// database without journal_mode = WAL, a busy timeout, and synchronous = NORMAL. Parsed
// with the TypeScript compiler API (never regular expressions over code), for the common
// Node drivers: better-sqlite3, sqlite3 / @vscode/sqlite3, and node:sqlite.
import ts from 'typescript';

export type Driver = 'better-sqlite3' | 'sqlite3' | 'node:sqlite';
export type LintCode = 'no-wal' | 'journal-mode-not-wal' | 'no-busy-timeout' | 'busy-timeout-low' | 'synchronous-not-normal';

export interface LintFinding {
  code: LintCode;
  severity: 'warning' | 'information';
  message: string;
  /** Offsets in the file. */
  start: number;
  end: number;
  db: number;
}

export interface TextEditSpan {
  start: number;
  end: number;
  newText: string;
}

export interface LintFix {
  title: string;
  kind: 'quickfix' | 'source';
  isPreferred?: boolean;
  edits: TextEditSpan[];
  /** Indexes into the findings this fix resolves. */
  findings: number[];
}

interface Setting {
  value: string;
  /** The string literal that holds it, for a fix in place. */
  literal?: { start: number; end: number; text: string };
  numeric?: { start: number; end: number };
}

interface OpenedDb {
  driver: Driver;
  receiver: string;
  call: ts.NewExpression;
  /** Where new statements go: after this statement, at its indentation. */
  anchor?: ts.Statement;
  journalMode?: Setting;
  busyTimeout?: Setting;
  synchronous?: Setting;
  /** A setting we could not read (computed string): say nothing rather than guess. */
  opaque: boolean;
}

export interface LintOptions {
  minBusyTimeoutMs?: number;
}

const DRIVERS: Record<string, Driver> = {
  'better-sqlite3': 'better-sqlite3',
  sqlite3: 'sqlite3',
  '@vscode/sqlite3': 'sqlite3',
  'node:sqlite': 'node:sqlite',
};
const DEFAULT_TIMEOUT: Record<Driver, number> = { 'better-sqlite3': 5000, sqlite3: 1000, 'node:sqlite': 0 };

/** Cheap prefilter for workspace scans: the real decision is made on the AST. */
export function mentionsDriver(text: string): boolean {
  return Object.keys(DRIVERS).some((d) => text.includes(d));
}

type Binding = { driver: Driver; role: 'ctor' | 'module' };

function collectBindings(sf: ts.SourceFile): Map<string, Binding> {
  const out = new Map<string, Binding>();
  const bindModule = (driver: Driver, name: string) => out.set(name, { driver, role: driver === 'better-sqlite3' ? 'ctor' : 'module' });
  const bindNamed = (driver: Driver, local: string, imported: string) => {
    if (imported === 'Database' || imported === 'DatabaseSync') out.set(local, { driver, role: 'ctor' });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const driver = DRIVERS[node.moduleSpecifier.text];
      const clause = node.importClause;
      if (driver && clause) {
        if (clause.name) bindModule(driver, clause.name.text);
        const nb = clause.namedBindings;
        if (nb && ts.isNamespaceImport(nb)) bindModule(driver, nb.name.text);
        if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) bindNamed(driver, el.name.text, (el.propertyName ?? el.name).text);
      }
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      const driver = DRIVERS[node.moduleReference.expression.text];
      if (driver) bindModule(driver, node.name.text);
    } else if (ts.isVariableDeclaration(node) && node.initializer) {
      const req = requireOf(node.initializer);
      const driver = req ? DRIVERS[req] : undefined;
      if (driver) {
        if (ts.isIdentifier(node.name)) bindModule(driver, node.name.text);
        else if (ts.isObjectBindingPattern(node.name))
          for (const el of node.name.elements) if (ts.isIdentifier(el.name)) bindNamed(driver, el.name.text, el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : el.name.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** `require('x')`, `require('x').verbose()` → 'x'. */
function requireOf(e: ts.Expression): string | undefined {
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'require' && e.arguments[0] && ts.isStringLiteral(e.arguments[0])) return e.arguments[0].text;
  if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)) return requireOf(e.expression.expression);
  return undefined;
}

function rootIdentifier(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isParenthesizedExpression(e)) return rootIdentifier(e.expression);
  if (ts.isCallExpression(e)) return rootIdentifier(e.expression);
  if (ts.isPropertyAccessExpression(e)) return rootIdentifier(e.expression);
  return undefined;
}

/** The driver a `new …(…)` expression opens a database with, if any. */
function driverOfNew(n: ts.NewExpression, b: Map<string, Binding>): Driver | undefined {
  const callee = n.expression;
  if (ts.isIdentifier(callee)) {
    const bind = b.get(callee.text);
    return bind?.role === 'ctor' ? bind.driver : undefined;
  }
  if (ts.isPropertyAccessExpression(callee) && (callee.name.text === 'Database' || callee.name.text === 'DatabaseSync')) {
    const root = rootIdentifier(callee.expression);
    const bind = root ? b.get(root) : undefined;
    if (bind) return bind.driver;
    const req = requireOf(callee.expression);
    return req ? DRIVERS[req] : undefined;
  }
  return undefined;
}

function receiverOf(n: ts.NewExpression, sf: ts.SourceFile): { receiver: string; anchor?: ts.Statement } | undefined {
  let p: ts.Node = n.parent;
  while (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isNonNullExpression(p)) p = p.parent;
  const stmt = (node: ts.Node): ts.Statement | undefined => {
    let s: ts.Node | undefined = node;
    while (s && !ts.isExpressionStatement(s) && !ts.isVariableStatement(s)) s = s.parent;
    return s as ts.Statement | undefined;
  };
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return { receiver: p.name.text, anchor: stmt(p) };
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return { receiver: p.left.getText(sf), anchor: stmt(p) };
  if (ts.isPropertyDeclaration(p) && ts.isIdentifier(p.name)) {
    // A field initialiser: the pragmas go first thing in the constructor.
    return { receiver: `this.${p.name.text}` };
  }
  return undefined;
}

function literalText(e: ts.Expression | undefined): { text: string; start: number; end: number } | undefined {
  if (e && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e))) return { text: e.text, start: e.getStart(), end: e.getEnd() };
  return undefined;
}

const PRAGMA_SET = /^\s*(?:PRAGMA\s+)?(?:\w+\.)?(journal_mode|busy_timeout|synchronous)\s*(?:=\s*|\(\s*)['"]?(\w+)['"]?\s*\)?\s*$/i;

function applyPragmaString(db: OpenedDb, lit: { text: string; start: number; end: number }, requirePragmaKeyword: boolean): void {
  for (const stmt of lit.text.split(';')) {
    if (!stmt.trim()) continue;
    if (requirePragmaKeyword && !/^\s*PRAGMA\b/i.test(stmt)) continue;
    const m = PRAGMA_SET.exec(stmt);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const s: Setting = { value: m[2], literal: lit };
    if (key === 'journal_mode') db.journalMode = s;
    else if (key === 'busy_timeout') db.busyTimeout = s;
    else db.synchronous = s;
  }
}

function collectSettings(db: OpenedDb, sf: ts.SourceFile): void {
  // better-sqlite3's `new Database(path, { timeout })` sets the busy timeout.
  const opts = db.call.arguments?.[1];
  if (db.driver === 'better-sqlite3' && opts && ts.isObjectLiteralExpression(opts)) {
    for (const p of opts.properties) {
      if (ts.isPropertyAssignment(p) && p.name.getText(sf) === 'timeout') {
        if (ts.isNumericLiteral(p.initializer)) db.busyTimeout = { value: p.initializer.text, numeric: { start: p.initializer.getStart(), end: p.initializer.getEnd() } };
        else db.opaque = true;
      }
    }
  }
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.expression.getText(sf) === db.receiver) {
      const method = node.expression.name.text;
      const [a0, a1] = node.arguments;
      const lit = literalText(a0);
      if (method === 'pragma' && db.driver === 'better-sqlite3') {
        // pragma('journal_mode', { simple: true }) reads; only 'key = value' sets.
        if (lit && lit.text.includes('=')) applyPragmaString(db, lit, false);
        else if (!lit) db.opaque = true;
      } else if ((method === 'exec' || method === 'run' || method === 'prepare') && lit) {
        applyPragmaString(db, lit, true);
      } else if (method === 'configure' && lit?.text === 'busyTimeout' && a1) {
        if (ts.isNumericLiteral(a1)) db.busyTimeout = { value: a1.text, numeric: { start: a1.getStart(), end: a1.getEnd() } };
        else db.opaque = true;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

function findDatabases(sf: ts.SourceFile): OpenedDb[] {
  const bindings = collectBindings(sf);
  if (!bindings.size) return [];
  const dbs: OpenedDb[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node)) {
      const driver = driverOfNew(node, bindings);
      const r = driver ? receiverOf(node, sf) : undefined;
      if (driver && r) dbs.push({ driver, receiver: r.receiver, call: node, anchor: r.anchor, opaque: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  for (const db of dbs) collectSettings(db, sf);
  return dbs;
}

function parse(fileName: string, text: string): ts.SourceFile {
  const kind = /\.tsx$/i.test(fileName) ? ts.ScriptKind.TSX : /\.jsx$/i.test(fileName) ? ts.ScriptKind.JSX : /\.[cm]?js$/i.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
}

export interface LintResult {
  findings: LintFinding[];
  fixes: LintFix[];
}

export function lintSource(fileName: string, text: string, opts: LintOptions = {}): LintResult {
  if (!mentionsDriver(text)) return { findings: [], fixes: [] };
  const sf = parse(fileName, text);
  const dbs = findDatabases(sf);
  const min = opts.minBusyTimeoutMs ?? 5000;
  const findings: LintFinding[] = [];
  dbs.forEach((db, i) => {
    const at = { start: db.call.getStart(sf), end: db.call.getEnd(), db: i };
    const mode = db.journalMode?.value.toLowerCase();
    if (!db.journalMode) {
      findings.push({ ...at, code: 'no-wal', severity: 'warning', message: `${db.receiver} is opened without journal_mode = WAL: in the default rollback journal every reader blocks the writer ("database is locked"). Set it right after opening (RUNBOOK-002 long-term fix).` });
    } else if (mode !== 'wal') {
      const l = db.journalMode.literal!;
      findings.push({ start: l.start, end: l.end, db: i, code: 'journal-mode-not-wal', severity: 'warning', message: `journal_mode is set to ${db.journalMode.value}, not WAL: readers and the writer will block each other. Use journal_mode = WAL (RUNBOOK-002).` });
    }
    const timeout = db.busyTimeout ? Number(db.busyTimeout.value) : undefined;
    if (timeout === undefined && !db.opaque) {
      const dflt = DEFAULT_TIMEOUT[db.driver];
      findings.push({
        ...at,
        code: 'no-busy-timeout',
        severity: dflt >= min ? 'information' : 'warning',
        message:
          db.driver === 'better-sqlite3'
            ? `No busy timeout set: better-sqlite3 already waits ${dflt} ms by default; setting busy_timeout = ${min} explicitly documents it (RUNBOOK-002).`
            : `No busy timeout set: ${db.driver === 'sqlite3' ? 'node-sqlite3 waits only 1000 ms by default' : 'node:sqlite does not wait at all by default'}, so a concurrent write fails with "database is locked". Set busy_timeout = ${min} (RUNBOOK-002 option 2).`,
      });
    } else if (timeout !== undefined && Number.isFinite(timeout) && timeout < min) {
      findings.push({ ...at, code: 'busy-timeout-low', severity: 'warning', message: `The busy timeout is ${timeout} ms, below ${min} ms: writes give up with "database is locked" under load. Raise it to ${min} (RUNBOOK-002 option 2).` });
    }
    const sync = db.synchronous?.value.toUpperCase();
    if ((mode === 'wal' || !db.journalMode) && sync !== 'NORMAL' && sync !== '1') {
      findings.push({ ...at, code: 'synchronous-not-normal', severity: 'information', message: `In WAL mode synchronous = NORMAL is safe (no corruption on crash) and much faster than the default FULL; set it after enabling WAL (RUNBOOK-002 long-term fix).` });
    }
  });
  return { findings, fixes: buildFixes(text, sf, dbs, findings, min) };
}

// ------------------------------------------------------------ fixes

function quoteOf(sf: ts.SourceFile, text: string): string {
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) return text[st.moduleSpecifier.getStart(sf)] === '"' ? '"' : "'";
  }
  const m = /(['"])(?:better-sqlite3|sqlite3|@vscode\/sqlite3|node:sqlite)\1/.exec(text);
  return m?.[1] ?? "'";
}

function lineIndent(text: string, pos: number): string {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

function call(db: OpenedDb, key: 'journal_mode' | 'busy_timeout' | 'synchronous', value: string, q: string, semi: string, min: number): string {
  if (db.driver === 'better-sqlite3') return `${db.receiver}.pragma(${q}${key} = ${value}${q})${semi}`;
  if (db.driver === 'sqlite3' && key === 'busy_timeout') return `${db.receiver}.configure(${q}busyTimeout${q}, ${min})${semi}`;
  const method = db.driver === 'sqlite3' ? 'run' : 'exec';
  return `${db.receiver}.${method}(${q}PRAGMA ${key} = ${value}${q})${semi}`;
}

/** Where new statements go for this DB and with which indentation. */
function insertion(db: OpenedDb, sf: ts.SourceFile, text: string): { pos: number; indent: string; semi: string } | undefined {
  if (db.anchor) {
    const end = db.anchor.getEnd();
    const semi = text[end - 1] === ';' ? ';' : '';
    return { pos: end, indent: lineIndent(text, db.anchor.getStart(sf)), semi };
  }
  // A field initialiser: first thing in the constructor, after super(…).
  let cls: ts.Node | undefined = db.call.parent;
  while (cls && !ts.isClassLike(cls)) cls = cls.parent;
  const ctor = cls && ts.isClassLike(cls) ? cls.members.find(ts.isConstructorDeclaration) : undefined;
  if (!ctor?.body) return undefined;
  const stmts = ctor.body.statements;
  const first = stmts.find((s) => !(ts.isExpressionStatement(s) && ts.isCallExpression(s.expression) && s.expression.expression.kind === ts.SyntaxKind.SuperKeyword));
  const superStmt = stmts.find((s) => s !== first && stmts.indexOf(s) < (first ? stmts.indexOf(first) : Infinity));
  const indent = first ? lineIndent(text, first.getStart(sf)) : lineIndent(text, ctor.getStart(sf)) + '  ';
  const semi = first ? (text[first.getEnd() - 1] === ';' ? ';' : '') : ';';
  if (superStmt) return { pos: superStmt.getEnd(), indent, semi };
  return { pos: ctor.body.getStart(sf) + 1, indent, semi };
}

function buildFixes(text: string, sf: ts.SourceFile, dbs: OpenedDb[], findings: LintFinding[], min: number): LintFix[] {
  const q = quoteOf(sf, text);
  const fixes: LintFix[] = [];
  const all: TextEditSpan[] = [];
  const allFindings: number[] = [];
  dbs.forEach((db, i) => {
    const mine = findings.map((f, k) => ({ f, k })).filter((x) => x.f.db === i);
    if (!mine.length) return;
    const where = insertion(db, sf, text);
    const edits: TextEditSpan[] = [];
    const lines: string[] = [];
    // Several settings may live in one exec('PRAGMA …; PRAGMA …') string: one edit per literal.
    const inLiteral = new Map<number, { lit: { start: number; end: number; text: string }; changes: [string, string][] }>();
    const change = (lit: { start: number; end: number; text: string }, key: string, value: string) => {
      const e = inLiteral.get(lit.start) ?? { lit, changes: [] };
      e.changes.push([key, value]);
      inLiteral.set(lit.start, e);
    };
    const codes = new Set(mine.map((x) => x.f.code));
    if (codes.has('no-wal') && where) lines.push(call(db, 'journal_mode', 'WAL', q, where.semi, min));
    if (codes.has('journal-mode-not-wal') && db.journalMode?.literal) change(db.journalMode.literal, 'journal_mode', 'WAL');
    if (codes.has('no-busy-timeout') && where) lines.push(call(db, 'busy_timeout', String(min), q, where.semi, min));
    if (codes.has('busy-timeout-low')) {
      const s = db.busyTimeout!;
      if (s.numeric) edits.push({ start: s.numeric.start, end: s.numeric.end, newText: String(min) });
      else if (s.literal) change(s.literal, 'busy_timeout', String(min));
    }
    if (codes.has('synchronous-not-normal')) {
      if (db.synchronous?.literal) change(db.synchronous.literal, 'synchronous', 'NORMAL');
      else if (where) lines.push(call(db, 'synchronous', 'NORMAL', q, where.semi, min));
    }
    for (const { lit, changes } of inLiteral.values()) edits.push(replaceValues(lit, changes, text));
    if (lines.length && where) edits.push({ start: where.pos, end: where.pos, newText: lines.map((l) => `\n${where.indent}${l}`).join('') });
    if (!edits.length) return;
    const ks = mine.map((x) => x.k);
    fixes.push({ title: 'Add the missing SQLite pragmas (RUNBOOK-002)', kind: 'quickfix', isPreferred: true, edits, findings: ks });
    all.push(...edits);
    allFindings.push(...ks);
    const timeoutOnly = mine.filter((x) => x.f.code === 'no-busy-timeout' || x.f.code === 'busy-timeout-low');
    if (timeoutOnly.length) {
      const s = db.busyTimeout;
      const e: TextEditSpan[] = s?.numeric
        ? [{ start: s.numeric.start, end: s.numeric.end, newText: String(min) }]
        : s?.literal
          ? [replaceValues(s.literal, [['busy_timeout', String(min)]], text)]
          : where
            ? [{ start: where.pos, end: where.pos, newText: `\n${where.indent}${call(db, 'busy_timeout', String(min), q, where.semi, min)}` }]
            : [];
      if (e.length) fixes.push({ title: `Set busy timeout to ${min} ms`, kind: 'quickfix', edits: e, findings: timeoutOnly.map((x) => x.k) });
    }
  });
  if (all.length) fixes.push({ title: 'Apply RUNBOOK-002 long-term fix to this file', kind: 'source', edits: mergeEdits(all), findings: allFindings });
  return fixes;
}

/** Replaces the values of the given pragmas within one string literal, keeping its quotes and the rest. */
function replaceValues(lit: { start: number; end: number; text: string }, changes: [string, string][], text: string): TextEditSpan {
  let raw = text.slice(lit.start, lit.end);
  for (const [key, value] of changes) raw = raw.replace(new RegExp(`(${key}\\s*(?:=\\s*|\\(\\s*)['"]?)(\\w+)`, 'i'), `$1${value}`);
  return { start: lit.start, end: lit.end, newText: raw };
}

/** Several fixes may insert at one point (two DBs in one statement block): keep them in order, once. */
function mergeEdits(edits: TextEditSpan[]): TextEditSpan[] {
  const seen = new Set<string>();
  return edits
    .filter((e) => {
      const k = `${e.start}:${e.end}:${e.newText}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => a.start - b.start);
}

/** Applies non-overlapping edits (tests, the CLI). */
export function applyEdits(text: string, edits: TextEditSpan[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}
