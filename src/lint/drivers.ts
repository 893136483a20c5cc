// Which SQLite driver a file uses and how it opens a database: the imports and requires of
// the known Node drivers, and the `new …(…)` expressions that construct a connection.
import ts from 'typescript';
import type { Driver } from './lintTypes';

const DRIVERS: Record<string, Driver> = {
  'better-sqlite3': 'better-sqlite3',
  sqlite3: 'sqlite3',
  '@vscode/sqlite3': 'sqlite3',
  'node:sqlite': 'node:sqlite',
};
export const DEFAULT_TIMEOUT: Record<Driver, number> = { 'better-sqlite3': 5000, sqlite3: 1000, 'node:sqlite': 0 };

/** Cheap prefilter for workspace scans: the real decision is made on the AST. */
export function mentionsDriver(text: string): boolean {
  return Object.keys(DRIVERS).some((d) => text.includes(d));
}

export type Binding = { driver: Driver; role: 'ctor' | 'module' };

export function collectBindings(sf: ts.SourceFile): Map<string, Binding> {
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
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      const driver = DRIVERS[node.moduleReference.expression.text];
      if (driver) bindModule(driver, node.name.text);
    } else if (ts.isVariableDeclaration(node) && node.initializer) {
      const req = requireOf(node.initializer);
      const driver = req ? DRIVERS[req] : undefined;
      if (driver) {
        if (ts.isIdentifier(node.name)) bindModule(driver, node.name.text);
        else if (ts.isObjectBindingPattern(node.name))
          for (const el of node.name.elements)
            if (ts.isIdentifier(el.name))
              bindNamed(driver, el.name.text, el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : el.name.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** `require('x')`, `require('x').verbose()` → 'x'. */
function requireOf(e: ts.Expression): string | undefined {
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'require' && e.arguments[0] && ts.isStringLiteral(e.arguments[0]))
    return e.arguments[0].text;
  if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)) return requireOf(e.expression.expression);
  return undefined;
}

export function rootIdentifier(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isParenthesizedExpression(e)) return rootIdentifier(e.expression);
  if (ts.isCallExpression(e)) return rootIdentifier(e.expression);
  if (ts.isPropertyAccessExpression(e)) return rootIdentifier(e.expression);
  return undefined;
}

/** The driver a `new …(…)` expression opens a database with, if any. */
export function driverOfNew(n: ts.NewExpression, b: Map<string, Binding>): Driver | undefined {
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
