// The language-server side of the storage-code lint: diagnostics for open TS/JS documents
// (debounced as they change) and, once at start, for the workspace's files (bounded in
// time and size); quick fixes and a source action as LSP code actions.
//
// The linter parses with the TypeScript compiler, which costs the server tens of MB of
// memory: it is loaded on the first file that may be storage code, not at start
// (docs/DESIGN.md § Performance targets: ≤ 60 MB resident until a storage file is linted).
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  DiagnosticSeverity,
  TextDocuments,
  type CodeAction,
  type Connection,
  type Diagnostic,
  type TextEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { LintResult, TextEditSpan } from '../lint/pragmaLint';
import { CODE_FILE_EXT, CODE_LANGUAGES } from '../shared/codeLanguages';
import * as proto from '../shared/protocol';

const SOURCE = 'Trace DB Doctor';
const LANGUAGES: ReadonlySet<string> = new Set(CODE_LANGUAGES);
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'out', 'coverage', '.next', '.turbo', '.cache', '.tools', '.e2e', '.bench-cache']);
const MAX_FILE_BYTES = 1024 * 1024;
const SCAN_BUDGET_MS = 5000;
const SCAN_MAX_FILES = 20000;
const DEBOUNCE_MS = 300;
const NOTHING: LintResult = { findings: [], fixes: [] };

type Linter = typeof import('../lint/pragmaLint');
let linter: Promise<Linter> | undefined;
/**
 * The linter and the TypeScript compiler behind it, loaded once, on first use, from their
 * own bundle (dist/lint.js, see esbuild.mjs): V8 parses whatever a bundle holds even if it
 * never runs, and the compiler alone cost the server ~19 MB before any lint. The path is
 * computed so the bundler leaves it alone; run from source (tsx), the module itself loads.
 */
function loadLinter(): Promise<Linter> {
  linter ??= Promise.resolve().then(() => {
    const bundled = path.join(__dirname, 'lint.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(existsSync(bundled) ? bundled : path.join(__dirname, '..', 'lint', 'pragmaLint')) as Linter;
  });
  return linter;
}

/**
 * Whether a file may open a SQLite database: every driver the linter knows ('sqlite3',
 * '@vscode/sqlite3', 'better-sqlite3', 'node:sqlite') has "sqlite" in its module name.
 * A superset of the linter's own prefilter, so it never hides a finding, and checking it
 * needs no compiler.
 */
export function maySpeakSqlite(text: string): boolean {
  return text.includes('sqlite');
}
export const FIX_ALL_KIND = `${CodeActionKind.Source}.fixAll.tracedb`;

export interface PragmaLintOptions {
  minBusyTimeoutMs(): number;
}

export function registerPragmaLint(connection: Connection, opts: PragmaLintOptions) {
  const documents = new TextDocuments(TextDocument);
  const timers = new Map<string, NodeJS.Timeout>();
  /** Files published from the workspace scan (not open): cleared when opened and re-linted. */
  const lint = async (uri: string, text: string): Promise<LintResult> => {
    if (!maySpeakSqlite(text)) return NOTHING;
    const { lintSource } = await loadLinter();
    return lintSource(uri.startsWith('file:') ? fileURLToPath(uri) : uri, text, { minBusyTimeoutMs: opts.minBusyTimeoutMs() });
  };

  function diagnostics(doc: { positionAt(o: number): { line: number; character: number } }, r: LintResult): Diagnostic[] {
    return r.findings.map((f) => ({
      range: { start: doc.positionAt(f.start), end: doc.positionAt(f.end) },
      severity: f.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
      source: SOURCE,
      code: f.code,
      message: f.message,
    }));
  }

  async function publish(doc: TextDocument): Promise<void> {
    if (!LANGUAGES.has(doc.languageId)) return;
    const r = await lint(doc.uri, doc.getText());
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: diagnostics(doc, r) });
  }

  documents.onDidChangeContent((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.set(
      e.document.uri,
      setTimeout(() => void publish(e.document), DEBOUNCE_MS),
    );
  });
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    timers.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  const toTextEdits = (doc: TextDocument, spans: TextEditSpan[]): TextEdit[] =>
    spans.map((s) => ({ range: { start: doc.positionAt(s.start), end: doc.positionAt(s.end) }, newText: s.newText }));

  connection.onCodeAction(async (params) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc || !LANGUAGES.has(doc.languageId)) return [];
    const r = await lint(doc.uri, doc.getText());
    const diags = diagnostics(doc, r);
    const start = doc.offsetAt(params.range.start);
    const end = doc.offsetAt(params.range.end);
    const only = params.context.only;
    const wants = (kind: string) => !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));
    const actions: CodeAction[] = [];
    if (wants(CodeActionKind.QuickFix)) {
      for (const fix of r.fixes.filter((f) => f.kind === 'quickfix')) {
        const touched = fix.findings.filter((k) => r.findings[k].start <= end && r.findings[k].end >= start);
        if (!touched.length) continue;
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          isPreferred: fix.isPreferred,
          diagnostics: touched.map((k) => diags[k]),
          edit: { changes: { [doc.uri]: toTextEdits(doc, fix.edits) } },
        });
      }
    }
    const all = r.fixes.find((f) => f.kind === 'source');
    if (all && wants(FIX_ALL_KIND)) {
      actions.push({
        title: all.title,
        kind: FIX_ALL_KIND,
        diagnostics: all.findings.map((k) => diags[k]),
        edit: { changes: { [doc.uri]: toTextEdits(doc, all.edits) } },
      });
    }
    return actions;
  });

  connection.onRequest(proto.storageFixEdits, async ({ uri, only }) => {
    const open = documents.get(uri);
    const doc = open ?? TextDocument.create(uri, 'typescript', 0, await fs.readFile(fileURLToPath(uri), 'utf8'));
    const r = await lint(uri, doc.getText());
    const fix =
      only === 'busyTimeout'
        ? r.fixes.filter((f) => f.title.startsWith('Set busy timeout')).flatMap((f) => f.edits)
        : (r.fixes.find((f) => f.kind === 'source')?.edits ?? []);
    return { edits: toTextEdits(doc, fix), findings: r.findings.length };
  });

  documents.listen(connection);

  /**
   * Lints the workspace's files once, bounded: a repo with thousands of files stays
   * responsive. The budget is checked per file, since one folder can hold tens of
   * thousands (60,000 took 18 s against the 5 s budget when checked per folder).
   */
  async function scanWorkspace(
    folders: string[],
    limits = { budgetMs: SCAN_BUDGET_MS, maxFiles: SCAN_MAX_FILES },
  ): Promise<{ files: number; linted: number; complete: boolean }> {
    const deadline = Date.now() + limits.budgetMs;
    let files = 0;
    let linted = 0;
    const queue = [...folders];
    const overBudget = () => Date.now() > deadline || files >= limits.maxFiles;
    while (queue.length) {
      if (overBudget()) return { files, linted, complete: false };
      const dir = queue.shift()!;
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) queue.push(p);
          continue;
        }
        if (!e.isFile() || !CODE_FILE_EXT.test(e.name) || /\.d\.[cm]?ts$|\.min\.js$/.test(e.name)) continue;
        if (overBudget()) return { files, linted, complete: false };
        files++;
        const uri = pathToFileURL(p).toString();
        if (documents.get(uri)) continue;
        try {
          const st = await fs.stat(p);
          if (st.size > MAX_FILE_BYTES) continue;
          const text = await fs.readFile(p, 'utf8');
          if (!maySpeakSqlite(text)) continue;
          linted++;
          const r = await lint(uri, text);
          if (r.findings.length) {
            const doc = TextDocument.create(uri, 'typescript', 0, text);
            void connection.sendDiagnostics({ uri, diagnostics: diagnostics(doc, r) });
          }
        } catch {
          // unreadable file: skip
        }
      }
    }
    return { files, linted, complete: true };
  }

  return { scanWorkspace };
}
