// What a process that has the trace database open is: the proxy, its launcher, or
// somebody else named by the program they run.
//
// Naming the wrong process is the most dangerous thing the doctor can do: the user
// is offered "Kill Blocking Process" and "Restart Proxy" on the strength of these
// names. So the proxy is recognised only by its entry point (or by serving the
// proxy's port), never by its folder or by words in its arguments: a notebook run
// from packages/proxy with packages/proxy/.ai-tests/traces.db in its argv is the
// typical blocker (TRACEFORGE.md § What the proxy's processes look like).
import * as path from 'node:path';
import type { HolderKind } from '../../shared/model';

export interface HolderClass {
  kind: HolderKind;
  label: string;
  self: boolean;
}

/** Facts about a process beyond its argv and cwd. */
export interface HolderEvidence {
  /** The process listens on this TCP port, which is the proxy's (config.yaml's proxy_port). */
  proxyPort?: number;
}

export const PROXY_LABEL = 'TraceForge proxy';

// ---------------------------------------------------------------- tables

const JS_RUNTIMES = new Set(['node', 'nodejs', 'bun', 'deno']);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'fish', 'dash', 'ash', 'ksh']);
const OTHER_INTERPRETERS = new Set(['ruby', 'perl', 'php', 'rscript', 'lua', 'luajit', 'osascript', ...SHELLS]);
const PYTHON = /^(python|pypy)(\d+(\.\d+)?)?$/;
const EDITORS: Record<string, string> = {
  code: 'code',
  'code-insiders': 'code',
  'code-oss': 'code',
  'code - oss': 'code',
  codium: 'code',
  vscodium: 'code',
  cursor: 'cursor',
  windsurf: 'windsurf',
  'code-server': 'code-server',
  vim: 'vim',
  vi: 'vim',
  gvim: 'vim',
  nvim: 'nvim',
  emacs: 'emacs',
  'emacs-nox': 'emacs',
  emacsclient: 'emacs',
  nano: 'nano',
  hx: 'helix',
  subl: 'sublime text',
  sublime_text: 'sublime text',
  zed: 'zed',
  idea: 'intellij',
  webstorm: 'webstorm',
  datagrip: 'datagrip',
  datagrip64: 'datagrip',
  dbeaver: 'dbeaver',
};
const TEST_RUNNERS: Record<string, string> = { vitest: 'vitest', jest: 'jest', mocha: 'mocha', _mocha: 'mocha', ava: 'ava' };
const PACKAGE_MANAGERS = new Set(['npm', 'pnpm', 'yarn', 'bun']);
/** The package scripts that start the proxy (packages/proxy/package.json). */
const PROXY_SCRIPTS = new Set(['dev', 'start']);
const PROXY_PACKAGE = '@traceforge/proxy';

// node options whose value is the next argument when not written `--opt=value`;
// without them `node -r x.cjs app.js` would look like it runs x.cjs.
const NODE_VALUE_OPTS = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '-C',
  '--conditions',
  '--inspect-port',
  '--debug-port',
  '--title',
  '--env-file',
  '--input-type',
  '--redirect-warnings',
  '--openssl-config',
  '--icu-data-dir',
  '--diagnostic-dir',
  '--report-dir',
  '--report-directory',
  '--report-filename',
  '--report-signal',
  '--watch-path',
  '--secure-heap',
]);
const NODE_EVAL_OPTS = new Set(['-e', '--eval', '-p', '--print']);

// The proxy package's entry point, source (run by tsx) or built: nothing else in
// packages/proxy is the proxy.
const PROXY_ENTRY = /(?:^|\/)(?:packages\/proxy|@traceforge\/proxy)\/(?:src\/index\.[cm]?ts|dist\/index\.[cm]?js)$/;
const IN_PROXY_DIR = /\/packages\/proxy$/;

// ---------------------------------------------------------------- argv helpers

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? '';
}

/** The executable's name as written; handles argv rewritten by process.title ("npm test" in one string). */
function exeName(argv: readonly string[]): string {
  const first = argv[0] ?? '';
  if (argv.length === 1 && /\s/.test(first) && !/\.app[\\/]/.test(first)) return baseName(first.split(/\s+/)[0]);
  return baseName(first).replace(/\.exe$/i, '');
}

function slashes(p: string): string {
  return p.replace(/\\/g, '/');
}

/** Where a script argument points, as well as we can tell without the process's cwd. */
function resolveScript(script: string, cwd: string | undefined): string {
  const s = slashes(script).replace(/^file:\/\//, '');
  if (s.startsWith('/') || /^[a-z]:\//i.test(s)) return path.posix.normalize(s);
  return cwd ? path.posix.join(slashes(cwd), s) : path.posix.normalize(s);
}

function isProxyEntry(script: string | undefined, cwd: string | undefined): boolean {
  return script !== undefined && PROXY_ENTRY.test(resolveScript(script, cwd));
}

function inProxyDir(cwd: string | undefined): boolean {
  return cwd !== undefined && IN_PROXY_DIR.test(slashes(cwd).replace(/\/+$/, ''));
}

/** A JS runtime's script and the arguments after it; `evaluated` for `-e`/`-p` and `deno eval`. */
function jsScript(exe: string, args: readonly string[]): { script?: string; rest: string[]; evaluated: boolean } {
  let i = 0;
  // `deno run x.ts`, `bun run x.ts`: the subcommand comes before the options.
  if ((exe === 'deno' || exe === 'bun') && (args[0] === 'run' || args[0] === 'eval')) {
    if (args[0] === 'eval') return { rest: [], evaluated: true };
    i = 1;
  }
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return { script: args[i + 1], rest: args.slice(i + 2), evaluated: false };
    if (NODE_EVAL_OPTS.has(a) || /^--(eval|print)=/.test(a)) return { rest: [], evaluated: true };
    if (!a.startsWith('-') || a === '-') return { script: a, rest: args.slice(i + 1), evaluated: false };
    if (NODE_VALUE_OPTS.has(a)) i++;
  }
  return { rest: [], evaluated: false };
}

/** Python's script, module or `-c`, skipping its flags (`-u`, `-W ignore`, `-Xdev`, combined `-um mod`). */
function pythonTarget(args: readonly string[]): { script?: string; module?: string; command?: boolean } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return { script: args[i + 1] };
    if (a === '-' || !a.startsWith('-')) return { script: a };
    if (a.startsWith('--')) {
      if (a === '--check-hash-based-pycs') i++;
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const value = () => (j + 1 < a.length ? a.slice(j + 1) : args[++i]);
      if (c === 'c') return { command: true };
      if (c === 'm') return { module: value() };
      if (c === 'W' || c === 'X') {
        value();
        break;
      }
    }
  }
  return {};
}

/** The first positional argument: the script of ruby, perl, bash and the like. */
function firstPositional(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

// ---------------------------------------------------------------- kinds

function editorOf(exe: string, argv: readonly string[]): string | undefined {
  if (EDITORS[exe]) return EDITORS[exe];
  if (exe.startsWith('code helper') || exe.startsWith('code - oss')) return 'code';
  const head = argv.slice(0, 2).map((a) => slashes(a.toLowerCase()));
  if (head.some((a) => a.includes('/code-server/'))) return 'code-server';
  if (head.some((a) => a.includes('/.vscode-server/') || a.includes('/.vscode-server-insiders/'))) return 'code';
  if (head.some((a) => a.includes('/.cursor-server/'))) return 'cursor';
  if (exe === 'java') {
    // JetBrains and DBeaver run as a java process whose arguments name the product.
    const all = argv.join(' ').toLowerCase();
    if (all.includes('datagrip')) return 'datagrip';
    if (all.includes('dbeaver')) return 'dbeaver';
    return undefined;
  }
  if (JS_RUNTIMES.has(exe) || PYTHON.test(exe) || OTHER_INTERPRETERS.has(exe)) return undefined;
  // Electron builds of VS Code live in a "code" folder (/usr/share/code/code,
  // /usr/lib/code/... run by a system electron, Visual Studio Code.app).
  const dirs = argv.slice(0, exe.startsWith('electron') ? 2 : 1).flatMap((a) => a.toLowerCase().split(/[\\/]/).slice(0, -1));
  if (dirs.some((d) => d === 'code' || d === 'code-oss' || d === 'vscode' || d.startsWith('visual studio code') || d.startsWith('vscodium'))) return 'code';
  return undefined;
}

function testRunnerOf(exe: string, words: readonly string[]): string | undefined {
  for (const w of words) {
    const name = baseName(w)
      .replace(/\.(c|m)?js$/, '')
      .toLowerCase();
    if (TEST_RUNNERS[name]) return TEST_RUNNERS[name];
  }
  if ((exe === 'node' || exe === 'nodejs') && words.includes('--test')) return 'node --test';
  if ((exe === 'bun' || exe === 'deno') && words[1] === 'test') return `${exe} test`;
  // npm/pnpm/yarn, run directly or as `node …/npm-cli.js`.
  const pm = [exe, ...words.slice(0, 2).map((w) => baseName(w).replace(/(-cli)?\.(c|m)?js$/, ''))].find((n) => PACKAGE_MANAGERS.has(n));
  if (pm && words.some((w) => w === 'test' || w.startsWith('test:'))) return `${pm} test`;
  return undefined;
}

/** The package manager and the arguments it was given, if `words` run one (directly or as `node …/pnpm.cjs`). */
function packageManagerCall(exe: string, words: readonly string[]): { pm: string; args: string[] } | undefined {
  if (PACKAGE_MANAGERS.has(exe) && exe !== 'bun') return { pm: exe, args: words.slice(1) };
  if (exe === 'node' || exe === 'nodejs') {
    const { script, rest } = jsScript(exe, words.slice(1));
    const pm = script && baseName(script).replace(/(-cli)?\.(c|m)?js$/, '');
    if (pm && PACKAGE_MANAGERS.has(pm)) return { pm, args: rest };
  }
  return undefined;
}

/** `pnpm --filter @traceforge/proxy dev`, `npm run start` in packages/proxy, `yarn workspace @traceforge/proxy dev`. */
function proxyScriptRun(pm: string, args: readonly string[], cwd: string | undefined): string | undefined {
  let targetsProxy = inProxyDir(cwd);
  const positional: string[] = [];
  const names = (v: string | undefined) => v !== undefined && (v === PROXY_PACKAGE || /(^|\/)packages\/proxy\/?$/.test(slashes(v)));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = /^(--filter|--workspace|--dir|--prefix|-C)=(.*)$/.exec(a);
    if (eq) targetsProxy ||= names(eq[2]);
    else if (['--filter', '-F', '--workspace', '-w', '--dir', '--prefix', '-C'].includes(a)) targetsProxy ||= names(args[++i]);
    else if (!a.startsWith('-')) positional.push(a);
  }
  // yarn's `workspace <name> <script>`
  if (positional[0] === 'workspace') {
    targetsProxy ||= names(positional[1]);
    positional.splice(0, 2);
  }
  const script = positional[0] === 'run' || positional[0] === 'run-script' ? positional[1] : positional[0];
  return targetsProxy && script && PROXY_SCRIPTS.has(script) ? `${pm} ${script}` : undefined;
}

/** Programs that run a script through another process or in-process, and so stand between node and the entry. */
function wrapperOf(script: string): 'tsx' | 'ts-node' | 'nodemon' | undefined {
  const s = slashes(script);
  if (/(^|\/)tsx\/dist\/cli\.[cm]?js$/.test(s) || /(^|\/)\.bin\/tsx$/.test(s)) return 'tsx';
  if (/(^|\/)ts-node\/dist\/bin[\w-]*\.js$/.test(s) || /(^|\/)\.bin\/ts-node[\w-]*$/.test(s)) return 'ts-node';
  if (/(^|\/)nodemon\/bin\/nodemon\.js$/.test(s) || /(^|\/)\.bin\/nodemon$/.test(s)) return 'nodemon';
  return undefined;
}

/**
 * A JS process's kind: the proxy (its entry point), a launcher (tsx's CLI, nodemon:
 * they spawn the entry as a child), or a script named by its file.
 */
function classifyJs(exe: string, args: readonly string[], cwd: string | undefined): { kind: HolderKind; label: string } {
  const direct = jsScript(exe, args);
  const wrapper = exe === 'tsx' || exe === 'ts-node' || exe === 'nodemon' ? exe : direct.script && wrapperOf(direct.script);
  if (!wrapper) {
    if (isProxyEntry(direct.script, cwd)) return { kind: 'proxy', label: PROXY_LABEL };
    if (direct.evaluated) return { kind: 'script', label: `${exe} -e` };
    return { kind: 'script', label: direct.script ? `${exe} ${baseName(direct.script)}` : `${exe} (interactive)` };
  }
  const wrapperArgs = wrapper === exe ? args : direct.rest;
  const watch = wrapperArgs[0] === 'watch';
  const inner = jsScript('node', watch ? wrapperArgs.slice(1) : wrapperArgs).script;
  if (isProxyEntry(inner, cwd)) {
    // tsx and nodemon spawn the entry as a child node process, the one with the
    // database open; ts-node compiles in process, so it is the proxy itself.
    if (wrapper === 'ts-node') return { kind: 'proxy', label: PROXY_LABEL };
    return { kind: 'proxy-launcher', label: `proxy launcher (${wrapper}${watch ? ' watch' : ''})` };
  }
  return { kind: 'script', label: inner ? `${wrapper} ${baseName(inner)}` : `${wrapper} (interactive)` };
}

function classifyPython(exe: string, args: readonly string[]): { kind: HolderKind; label: string } {
  const t = pythonTarget(args);
  if (t.module !== undefined) {
    // Jupyter starts every notebook's kernel as `python -m ipykernel_launcher -f …json`.
    if (/^ipykernel(_launcher|\.kernelapp)?$/.test(t.module)) return { kind: 'script', label: 'Jupyter kernel' };
    return { kind: 'script', label: `${exe} -m ${t.module}` };
  }
  if (t.command) return { kind: 'script', label: `${exe} -c` };
  return { kind: 'script', label: t.script ? `${exe} ${baseName(t.script)}` : `${exe} (interactive)` };
}

/**
 * What kind of process has the database open, from its argv and cwd (`node
 * dist/index.js` is the proxy only in packages/proxy) and, for processes no name
 * places, whether it serves the proxy's port.
 */
export function classifyHolder(pid: number, argv: readonly string[], selfPid: number, cwd?: string, evidence: HolderEvidence = {}): HolderClass {
  if (pid === selfPid) return { kind: 'doctor', label: 'Trace DB Doctor (this process)', self: true };
  const c = classifyOther(argv, cwd);
  // Serving the port names processes the argv rules cannot (bun, a custom runner,
  // a bundle); it never renames what the program itself says (an editor forwarding
  // the port, a test run that started a server).
  if (evidence.proxyPort !== undefined && (c.kind === 'script' || c.kind === 'other')) {
    return { kind: 'proxy', label: `${PROXY_LABEL} (port ${evidence.proxyPort})`, self: false };
  }
  return { ...c, self: false };
}

function classifyOther(argv: readonly string[], cwd: string | undefined): { kind: HolderKind; label: string } {
  const exe = exeName(argv).toLowerCase();
  const words = argv.flatMap((a) => a.split(/\s+/)).filter((w) => w.length > 0);
  // One string means a rewritten process.title ("npm run dev"): its words are the argv.
  const args = argv.length === 1 ? words.slice(1) : argv.slice(1);

  if (exe === 'sqlite3') return { kind: 'sqlite3-shell', label: 'sqlite3 shell' };
  if (exe === 'sqlitebrowser' || exe === 'db browser for sqlite' || argv.join(' ').toLowerCase().includes('sqlitebrowser')) {
    return { kind: 'db-browser', label: 'DB Browser for SQLite' };
  }
  const editor = editorOf(exe, argv);
  if (editor) return { kind: 'editor', label: `editor (${editor})` };

  const pmCall = packageManagerCall(exe, words);
  const pmRun = pmCall && proxyScriptRun(pmCall.pm, pmCall.args, cwd);
  if (pmRun) return { kind: 'proxy-launcher', label: `proxy launcher (${pmRun})` };
  const runner = testRunnerOf(exe, words);
  if (runner) return { kind: 'test-runner', label: `test runner (${runner})` };
  if (pmCall) return { kind: 'other', label: `${pmCall.pm} process` };

  if (SHELLS.has(exe) && args[0] === '-c' && args[1] !== undefined) {
    // pnpm runs a package script through `sh -c "tsx watch src/index.ts"`.
    const inner = classifyOther(
      args[1].split(/\s+/).filter((w) => w.length > 0),
      cwd,
    );
    if (inner.kind === 'proxy' || inner.kind === 'proxy-launcher') return { kind: 'proxy-launcher', label: `proxy launcher (${exe} -c)` };
    return { kind: 'script', label: `${exe} -c` };
  }
  if (JS_RUNTIMES.has(exe) || exe === 'tsx' || exe === 'ts-node' || exe === 'nodemon') return classifyJs(exe, args, cwd);
  if (PYTHON.test(exe)) return classifyPython(exe, args);
  if (OTHER_INTERPRETERS.has(exe)) {
    const script = firstPositional(args);
    return { kind: 'script', label: script ? `${exe} ${baseName(script)}` : `${exe} (interactive)` };
  }
  return { kind: 'other', label: exe ? `${exeName(argv)} process` : 'unknown process' };
}
