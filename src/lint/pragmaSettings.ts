// What the code already sets on each connection: journal_mode, busy_timeout and synchronous,
// through pragma(), exec/run/prepare('PRAGMA …'), configure('busyTimeout') or better-sqlite3's
// `timeout` option, read from literals only.
import ts from 'typescript';
import type { OpenedDb, Setting } from './connectionSites';

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

export function collectSettings(db: OpenedDb, sf: ts.SourceFile): void {
  // better-sqlite3's `new Database(path, { timeout })` sets the busy timeout.
  const opts = db.call.arguments?.[1];
  if (db.driver === 'better-sqlite3' && opts && ts.isObjectLiteralExpression(opts)) {
    for (const p of opts.properties) {
      if (ts.isPropertyAssignment(p) && p.name.getText(sf) === 'timeout') {
        if (ts.isNumericLiteral(p.initializer))
          db.busyTimeout = { value: p.initializer.text, numeric: { start: p.initializer.getStart(), end: p.initializer.getEnd() } };
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
