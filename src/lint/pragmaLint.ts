// The storage-code linter's entry (its own bundle, dist/lint.js): RUNBOOK-002's long-term
// fix, found and made in code. Storage code that opens a SQLite database without
// journal_mode = WAL, a busy timeout and synchronous = NORMAL, or that opens a connection
// per call instead of once. Parsed with the TypeScript compiler API (never regular
// expressions over code), for the common Node drivers: better-sqlite3, sqlite3 /
// @vscode/sqlite3, and node:sqlite.
import ts from 'typescript';
import { SETTINGS } from '../shared/settings';
import { checkConnectionPerCall } from './connectionPerCall';
import { findDatabases, findOpenings } from './connectionSites';
import { mentionsDriver } from './drivers';
import type { LintOptions, LintResult } from './lintTypes';
import { checkPragmas } from './pragmaChecks';
import { buildFixes } from './pragmaFixes';
import { collectSettings } from './pragmaSettings';

export type { Driver, LintCode, LintFinding, LintFix, LintOptions, LintResult, TextEditSpan } from './lintTypes';
export { mentionsDriver } from './drivers';
export { applyEdits } from './textEdits';

function parse(fileName: string, text: string): ts.SourceFile {
  const kind = /\.tsx$/i.test(fileName)
    ? ts.ScriptKind.TSX
    : /\.jsx$/i.test(fileName)
      ? ts.ScriptKind.JSX
      : /\.[cm]?js$/i.test(fileName)
        ? ts.ScriptKind.JS
        : ts.ScriptKind.TS;
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
}

export function lintSource(fileName: string, text: string, opts: LintOptions = {}): LintResult {
  if (!mentionsDriver(text)) return { findings: [], fixes: [] };
  const sf = parse(fileName, text);
  const openings = findOpenings(sf);
  const dbs = findDatabases(sf, openings);
  for (const db of dbs) collectSettings(db, sf);
  const min = opts.minBusyTimeoutMs ?? SETTINGS.minBusyTimeoutMs.default;
  // Pragma findings first: their order (and each one's db number) is what it always was.
  const findings = [...checkPragmas(sf, dbs, min), ...checkConnectionPerCall(sf, openings, dbs)];
  return { findings, fixes: buildFixes(text, sf, dbs, findings, min) };
}
