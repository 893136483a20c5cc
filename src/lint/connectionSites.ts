// Where a file opens its SQLite connections: every `new …(…)` of a known driver, and for
// those kept in a variable or field, the name the code uses for the connection and the
// statement after which new pragma calls go.
import ts from 'typescript';
import { collectBindings, driverOfNew } from './drivers';
import type { Driver } from './lintTypes';

/** One `new …(…)` that opens a database with a known driver. */
export interface Opening {
  driver: Driver;
  call: ts.NewExpression;
}

export interface Setting {
  value: string;
  /** The string literal that holds it, for a fix in place. */
  literal?: { start: number; end: number; text: string };
  numeric?: { start: number; end: number };
}

/** An opening kept in a variable or field, with the pragmas the code sets on it. */
export interface OpenedDb extends Opening {
  receiver: string;
  /** Where new statements go: after this statement, at its indentation. */
  anchor?: ts.Statement;
  journalMode?: Setting;
  busyTimeout?: Setting;
  synchronous?: Setting;
  /** A setting we could not read (computed string): say nothing rather than guess. */
  opaque: boolean;
}

/** Every opening in the file, in source order. */
export function findOpenings(sf: ts.SourceFile): Opening[] {
  const bindings = collectBindings(sf);
  if (!bindings.size) return [];
  const out: Opening[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node)) {
      const driver = driverOfNew(node, bindings);
      if (driver) out.push({ driver, call: node });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The openings kept in a variable or field (their settings not read yet). */
export function findDatabases(sf: ts.SourceFile, openings: Opening[]): OpenedDb[] {
  const dbs: OpenedDb[] = [];
  for (const { driver, call } of openings) {
    const r = receiverOf(call, sf);
    if (r) dbs.push({ driver, receiver: r.receiver, call, anchor: r.anchor, opaque: false });
  }
  return dbs;
}

function receiverOf(n: ts.NewExpression, sf: ts.SourceFile): { receiver: string; anchor?: ts.Statement } | undefined {
  let p: ts.Node = n.parent;
  while (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isNonNullExpression(p)) p = p.parent;
  const stmt = (node: ts.Node): ts.Statement | undefined => {
    let s: ts.Node | undefined = node;
    while (s && !ts.isExpressionStatement(s) && !ts.isVariableStatement(s)) s = s.parent;
    return s;
  };
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return { receiver: p.name.text, anchor: stmt(p) };
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return { receiver: p.left.getText(sf), anchor: stmt(p) };
  if (ts.isPropertyDeclaration(p) && ts.isIdentifier(p.name)) {
    // A field initialiser: the pragmas go first thing in the constructor.
    return { receiver: `this.${p.name.text}` };
  }
  return undefined;
}
