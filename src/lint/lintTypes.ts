// What the storage-code lint hands back: findings on the code, and the text edits that fix
// them. The language server and the CLI depend on these shapes, not on how they are found.

export type Driver = 'better-sqlite3' | 'sqlite3' | 'node:sqlite';
export type LintCode = 'no-wal' | 'journal-mode-not-wal' | 'no-busy-timeout' | 'busy-timeout-low' | 'synchronous-not-normal' | 'connection-per-call';

export interface LintFinding {
  code: LintCode;
  severity: 'warning' | 'information';
  message: string;
  /** Offsets in the file. */
  start: number;
  end: number;
  /** Which opened database it is about; an open not kept in a variable gets a number of its own. */
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

export interface LintOptions {
  minBusyTimeoutMs?: number;
}

export interface LintResult {
  findings: LintFinding[];
  fixes: LintFix[];
}
