// RUNBOOK-002's "connection pooling", found in code: a SQLite connection opened inside a
// function that runs per request (a handler, a route callback, a method) instead of once.
// Each call then opens a connection of its own, which defeats WAL's benefit and multiplies
// lock contention. A warning on code that does open once would be noise, so anything
// evidently once is spared: module level, class fields, constructors, set-up functions,
// a lazy guard on a connection kept beyond the call, an opener that hands its connection
// on, and test hooks.
import ts from 'typescript';
import type { OpenedDb, Opening } from './connectionSites';
import { rootIdentifier } from './drivers';
import type { LintFinding } from './lintTypes';

/** Names of functions that run once by convention: what they open is the app's connection. */
const RUNS_ONCE = /^_*(?:main|init|initiali[sz]e|set[uU]p|bootstrap|start|migrate)(?![a-z])/;
/** Names of functions that open a connection for their caller: once-only when they hand it on. */
const OPENER = /^_*(?:open|connect|create|make|build|new)(?![a-z])/;
/** Test frameworks' callbacks: a fresh connection per test is the point there. */
const TEST_HOOKS = new Set([
  'describe',
  'it',
  'test',
  'before',
  'beforeEach',
  'beforeAll',
  'after',
  'afterEach',
  'afterAll',
  'suite',
  'suiteSetup',
  'suiteTeardown',
  'setup',
  'teardown',
]);
const ASSIGN = new Set([ts.SyntaxKind.EqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken, ts.SyntaxKind.BarBarEqualsToken]);

export function checkConnectionPerCall(sf: ts.SourceFile, openings: Opening[], dbs: OpenedDb[]): LintFinding[] {
  const findings: LintFinding[] = [];
  let unkept = dbs.length;
  for (const { call } of openings) {
    const kept = dbs.findIndex((d) => d.call === call);
    const db = kept >= 0 ? kept : unkept++;
    const fn = enclosingFunction(call);
    if (!fn || opensOnce(call, fn, sf)) continue;
    const name = nameOf(fn);
    const ctor = `new ${call.expression.getText(sf)}(…)`;
    findings.push({
      start: call.getStart(sf),
      end: call.getEnd(),
      db,
      code: 'connection-per-call',
      severity: 'warning',
      message:
        `${ctor} in ${name ? `${name}()` : 'this function'} opens a new SQLite connection on every call: ` +
        `that defeats WAL's benefit and multiplies lock contention ("database is locked"). ` +
        `Open it once and reuse it: at module level or in the constructor, or cache it on first use (this.db ??= ${ctor}) (RUNBOOK-002: connection pooling).`,
    });
  }
  return findings;
}

function opensOnce(call: ts.NewExpression, fn: ts.FunctionLikeDeclaration, sf: ts.SourceFile): boolean {
  if (ts.isConstructorDeclaration(fn) || isTestHook(fn)) return true;
  const name = nameOf(fn);
  if (name && RUNS_ONCE.test(name)) return true;
  const to = destination(call, fn, sf);
  if (to.places.length && guarded(call, fn, to.guards, sf)) return true;
  return !!name && OPENER.test(name) && (to.returned || to.places.length > 0);
}

function isFunction(n: ts.Node): n is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isAccessor(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n)
  );
}

/** The outermost of the parentheses and type assertions around `n`. */
function outermost(n: ts.Node): ts.Node {
  while (ts.isParenthesizedExpression(n.parent) || ts.isAsExpression(n.parent) || ts.isNonNullExpression(n.parent) || ts.isSatisfiesExpression(n.parent))
    n = n.parent;
  return n;
}

function inner(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

function isIife(fn: ts.FunctionLikeDeclaration): boolean {
  const o = outermost(fn);
  return (ts.isFunctionExpression(fn) || ts.isArrowFunction(fn)) && ts.isCallExpression(o.parent) && o.parent.expression === o;
}

/** The function each run of which executes `n`; none when `n` runs once (module level, a class field or static block). */
function enclosingFunction(n: ts.Node): ts.FunctionLikeDeclaration | undefined {
  for (let p = n.parent; !ts.isSourceFile(p); p = p.parent) {
    if (ts.isPropertyDeclaration(p) || ts.isClassStaticBlockDeclaration(p)) return undefined;
    if (isFunction(p) && !isIife(p)) return p;
  }
  return undefined;
}

function isTestHook(fn: ts.FunctionLikeDeclaration): boolean {
  const o = outermost(fn);
  if (!ts.isCallExpression(o.parent) || !o.parent.arguments.some((a) => a === o)) return false;
  const root = rootIdentifier(o.parent.expression);
  return root !== undefined && TEST_HOOKS.has(root);
}

/** The function's own name, or the name it is assigned to. */
function nameOf(fn: ts.FunctionLikeDeclaration): string | undefined {
  const named = (n: ts.Node | undefined) => (n && (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) ? n.text.replace(/^#/, '') : undefined);
  const own = named(fn.name);
  if (own) return own;
  const p = outermost(fn).parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return named(p.name);
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken)
    return named(ts.isPropertyAccessExpression(p.left) ? p.left.name : p.left);
  return undefined;
}

/** Visits the function's own nodes: not those of the functions nested in it. */
function forEachOwn(fn: ts.FunctionLikeDeclaration, cb: (n: ts.Node) => void): void {
  const visit = (n: ts.Node) => {
    cb(n);
    if (!isFunction(n)) ts.forEachChild(n, visit);
  };
  fn.parameters.forEach(visit);
  if (fn.body) visit(fn.body);
}

function localsOf(fn: ts.FunctionLikeDeclaration): Set<string> {
  const out = new Set<string>();
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) out.add(name.text);
    else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bind(el.name);
  };
  for (const p of fn.parameters) bind(p.name);
  forEachOwn(fn, (n) => {
    if (ts.isVariableDeclaration(n)) bind(n.name);
  });
  return out;
}

/** Whether a place outlives the call: a field of `this`, a property of an outer object, a variable of an outer scope. */
function outlivesCall(e: ts.Expression, locals: Set<string>): boolean {
  let root = inner(e);
  while (ts.isPropertyAccessExpression(root) || ts.isElementAccessExpression(root)) root = inner(root.expression);
  if (root.kind === ts.SyntaxKind.ThisKeyword) return true;
  return ts.isIdentifier(root) && !locals.has(root.text);
}

function isNamed(e: ts.Expression, name: string): boolean {
  const x = inner(e);
  return ts.isIdentifier(x) && x.text === name;
}

/** A returned value that hands the connection on: itself, an object holding it, or a wrapper built on it. */
function handsOn(e: ts.Expression, name: string): boolean {
  const x = inner(e);
  if (ts.isObjectLiteralExpression(x))
    return x.properties.some(
      (p) => (ts.isShorthandPropertyAssignment(p) && p.name.text === name) || (ts.isPropertyAssignment(p) && isNamed(p.initializer, name)),
    );
  if (ts.isNewExpression(x)) return !!x.arguments?.some((a) => isNamed(a, name));
  return isNamed(x, name);
}

/** A `cache.set(key, value)` call: the cache. */
function setInto(n: ts.Node, value: (a: ts.Expression) => boolean): ts.Expression | undefined {
  if (!ts.isCallExpression(n) || !ts.isPropertyAccessExpression(n.expression) || n.expression.name.text !== 'set') return undefined;
  return n.arguments.some(value) ? n.expression.expression : undefined;
}

/**
 * Where the new connection goes: the places beyond the call it is kept in (directly, or
 * through a local variable), whether it is returned, and the expressions a lazy guard
 * would test.
 */
function destination(
  call: ts.NewExpression,
  fn: ts.FunctionLikeDeclaration,
  sf: ts.SourceFile,
): { places: ts.Expression[]; returned: boolean; guards: string[] } {
  const locals = localsOf(fn);
  const o = outermost(call);
  const p = o.parent;
  let target: ts.Expression | undefined;
  let returned = ts.isReturnStatement(p) || o === fn.body;
  if (ts.isVariableDeclaration(p) && p.initializer === o && ts.isIdentifier(p.name)) target = p.name;
  else if (ts.isBinaryExpression(p) && p.right === o && ASSIGN.has(p.operatorToken.kind)) target = p.left;
  else target = setInto(p, (a) => a === o);
  const places: ts.Expression[] = [];
  if (target && outlivesCall(target, locals)) places.push(target);
  const local = target && ts.isIdentifier(target) && locals.has(target.text) ? target.text : undefined;
  if (local) {
    forEachOwn(fn, (n) => {
      if (ts.isReturnStatement(n) && n.expression && handsOn(n.expression, local)) returned = true;
      if (ts.isBinaryExpression(n) && ASSIGN.has(n.operatorToken.kind) && isNamed(n.right, local) && outlivesCall(n.left, locals)) places.push(n.left);
      const cache = setInto(n, (a) => isNamed(a, local));
      if (cache && outlivesCall(cache, locals)) places.push(cache);
    });
  }
  return { places, returned, guards: [target, ...places].filter((e) => e !== undefined).map((e) => e.getText(sf)) };
}

function mentions(n: ts.Node, texts: string[], sf: ts.SourceFile): boolean {
  const walk = (x: ts.Node): boolean => texts.includes(x.getText(sf)) || !!ts.forEachChild(x, (c) => walk(c) || undefined);
  return texts.length > 0 && walk(n);
}

function exits(s: ts.Statement): boolean {
  return ts.isReturnStatement(s) || ts.isThrowStatement(s) || (ts.isBlock(s) && s.statements.some((x) => ts.isReturnStatement(x) || ts.isThrowStatement(x)));
}

/**
 * Whether the open only runs while the kept connection is missing: `x ??= new …`,
 * `x || (x = new …)`, inside `if (!x)` or `x ? … : …`, or after `if (x) return x`.
 */
function guarded(call: ts.NewExpression, fn: ts.FunctionLikeDeclaration, guards: string[], sf: ts.SourceFile): boolean {
  let child: ts.Node = call;
  for (let a = call.parent; a !== fn; child = a, a = a.parent) {
    if (ts.isBinaryExpression(a) && a.right === child) {
      const k = a.operatorToken.kind;
      if (k === ts.SyntaxKind.QuestionQuestionEqualsToken || k === ts.SyntaxKind.BarBarEqualsToken) return true;
      const lazy = k === ts.SyntaxKind.QuestionQuestionToken || k === ts.SyntaxKind.BarBarToken || k === ts.SyntaxKind.AmpersandAmpersandToken;
      if (lazy && mentions(a.left, guards, sf)) return true;
    }
    if (ts.isIfStatement(a) && child !== a.expression && mentions(a.expression, guards, sf)) return true;
    if (ts.isConditionalExpression(a) && child !== a.condition && mentions(a.condition, guards, sf)) return true;
    if (ts.isBlock(a)) {
      const before = a.statements.slice(0, a.statements.indexOf(child as ts.Statement));
      if (before.some((s) => ts.isIfStatement(s) && exits(s.thenStatement) && mentions(s.expression, guards, sf))) return true;
    }
  }
  return false;
}
