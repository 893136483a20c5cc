// The edits that make the pragma findings go away, in the file's own style (quotes,
// semicolons, indentation): a quick fix per connection, one for the busy timeout alone,
// and a whole-file source action.
import ts from 'typescript';
import type { OpenedDb } from './connectionSites';
import type { LintCode, LintFinding, LintFix, TextEditSpan } from './lintTypes';
import { mergeEdits } from './textEdits';

/** Opening a connection once is a design change, not an edit: no fix claims to resolve it. */
const NOT_FIXED: ReadonlySet<LintCode> = new Set<LintCode>(['connection-per-call']);

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
  const first = stmts.find(
    (s) => !(ts.isExpressionStatement(s) && ts.isCallExpression(s.expression) && s.expression.expression.kind === ts.SyntaxKind.SuperKeyword),
  );
  const superStmt = stmts.find((s) => s !== first && stmts.indexOf(s) < (first ? stmts.indexOf(first) : Infinity));
  const indent = first ? lineIndent(text, first.getStart(sf)) : lineIndent(text, ctor.getStart(sf)) + '  ';
  const semi = first ? (text[first.getEnd() - 1] === ';' ? ';' : '') : ';';
  if (superStmt) return { pos: superStmt.getEnd(), indent, semi };
  return { pos: ctor.body.getStart(sf) + 1, indent, semi };
}

export function buildFixes(text: string, sf: ts.SourceFile, dbs: OpenedDb[], findings: LintFinding[], min: number): LintFix[] {
  const q = quoteOf(sf, text);
  const fixes: LintFix[] = [];
  const all: TextEditSpan[] = [];
  const allFindings: number[] = [];
  dbs.forEach((db, i) => {
    const mine = findings.map((f, k) => ({ f, k })).filter((x) => x.f.db === i && !NOT_FIXED.has(x.f.code));
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
