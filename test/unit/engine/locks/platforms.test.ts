// Who has the database open on macOS, Windows and the BSDs, tested on Linux: the
// platform is injected, and a CommandRunner replays what lsof, ps and PowerShell
// printed there (test/fixtures/platforms, whose README says where each came from).
// The parsers, the naming and the decision logic run for real; lsof, ps and PowerShell
// do not, and nothing here runs on macOS or Windows.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execRunner, type CommandOptions, type CommandResult, type CommandRunner } from '../../../../src/engine/locks/commandRunner';
import { resolveExecutable, type ToolFinder } from '../../../../src/engine/locks/findTool';
import { planLockView, type LockViewAbilities } from '../../../../src/engine/locks/lockViewPlan';
import { argvFromPs, lsofFileName, parseLsof, parsePsColumn } from '../../../../src/engine/locks/lsof';
import { ProcessCache, type TrackedFile } from '../../../../src/engine/locks/openFiles';
import { holdersFromRestartManager, parseRestartManagerRun, POWERSHELL_ARGS } from '../../../../src/engine/locks/restartManager';
import { RESTART_MANAGER_CSHARP, RESTART_MANAGER_SCRIPT, RM_FILES_ENV, RM_PORT_ENV } from '../../../../src/engine/locks/restartManagerScript';
import { sampleLocks } from '../../../../src/engine/locks/sampleLocks';
import type { Holder, LockSample } from '../../../../src/shared/model';
import { tempDir } from '../../../support/helpers';

const FIXTURES = path.resolve(__dirname, '../../../fixtures/platforms');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const MAC_NOTE = 'macOS: who has the file open (lsof); which SQLite lock each holds cannot be seen here.';
const WIN_NOTE = 'Windows: who has the file open (Restart Manager); which SQLite lock each holds cannot be seen here.';
const MAC_LSOF = '/usr/sbin/lsof';
const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';

// ---------------------------------------------------------------- the replaying runner

interface Call {
  file: string;
  args: readonly string[];
  opts: CommandOptions;
}

const ok = (stdout: string, stderr = '', code = 0): CommandResult => ({ stdout, stderr, code, missing: false, timedOut: false });

/** A win32-rm-*.json recording as the runner's answer. */
function psRecording(name: string): CommandResult {
  const r = JSON.parse(fixture(name)) as { exitCode: number; timedOut: boolean; stdout: string; stderr: string };
  return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode, missing: false, timedOut: r.timedOut };
}

/**
 * Answers each command with its recording, the recorded folder swapped for this test's
 * (the database must exist here for the doctor to look at all). Fails the test on a
 * command it has no recording for: every program the code runs is accounted for.
 */
function replay(answers: (c: Call) => CommandResult | undefined, swap?: { from: string; to: string }): { runner: CommandRunner; calls: Call[] } {
  const calls: Call[] = [];
  const runner: CommandRunner = (file, args, opts) => {
    const call = { file, args, opts };
    calls.push(call);
    const r = answers(call);
    if (!r) return Promise.reject(new Error(`no recording for ${file} ${args.join(' ')}`));
    const sub = (t: string) => (swap ? t.split(swap.from).join(swap.to) : t);
    return Promise.resolve({ ...r, stdout: sub(r.stdout), stderr: sub(r.stderr) });
  };
  return { runner, calls };
}

/** The darwin-* recordings of one scenario, routed by what each command asks. */
function darwinAnswers(scenario: string, opts: { files?: CommandResult } = {}): (c: Call) => CommandResult | undefined {
  return ({ file, args }) => {
    const has = (a: string) => args.includes(a);
    if (file === 'ps' && has('pid=,args=')) return ok(fixture(`darwin-ps-args-${scenario}.txt`));
    if (file === 'ps' && has('pid=,comm=')) return ok(fixture(`darwin-ps-comm-${scenario}.txt`));
    if (file !== MAC_LSOF) return undefined;
    if (has('cwd')) return ok(fixture(`darwin-lsof-cwd-${scenario}.txt`));
    if (has('-sTCP:LISTEN')) return ok(fixture(`darwin-lsof-listen-${scenario}.txt`));
    if (has('pcn')) {
      const stderr = fs.existsSync(path.join(FIXTURES, `darwin-lsof-${scenario}.stderr.txt`)) ? fixture(`darwin-lsof-${scenario}.stderr.txt`) : '';
      // lsof exits 1 when one of the files it was asked about is open nowhere or gone.
      return opts.files ?? ok(fixture(`darwin-lsof-${scenario}.txt`), stderr, 1);
    }
    return undefined;
  };
}

const tools =
  (have: { lsof?: string; powershell?: string }): ToolFinder =>
  (name) =>
    have[name];

/** A TraceForge checkout's database under `base`, with the companions named. */
function checkout(base: string, companions: string[]): { root: string; db: string } {
  const root = path.join(base, 'traceforge');
  const dir = path.join(root, 'packages', 'proxy', '.ai-tests');
  fs.mkdirSync(dir, { recursive: true });
  const db = path.join(dir, 'traces.db');
  for (const suffix of ['', ...companions]) fs.writeFileSync(db + suffix, '');
  return { root, db };
}

function holder(s: LockSample, pid: number): Holder {
  const h = s.holders.find((x) => x.pid === pid);
  assert.ok(h, `PID ${pid} not among holders: ${JSON.stringify(s.holders)}`);
  return h;
}

const brief = (s: LockSample) => s.holders.map((h) => [h.pid, h.kind, h.label, h.files.join(',')]);

describe('lock view on other platforms', () => {
  // ---------------------------------------------------------------- the decision
  describe('planLockView', () => {
    const plan = (platform: NodeJS.Platform, have: Partial<Omit<LockViewAbilities, 'platform'>> = {}) =>
      planLockView({ platform, procfs: false, lsof: false, powershell: false, ...have });

    it('Linux: /proc when it is there, else lsof, else says it sees nothing', () => {
      assert.deepEqual(plan('linux', { procfs: true, lsof: true }), { method: 'proc' });
      assert.equal(plan('linux', { lsof: true }).method, 'lsof');
      assert.match(plan('linux', { lsof: true }).note ?? '', /does not show which SQLite lock a process holds \(no \/proc\/locks\)/);
      assert.equal(plan('linux').method, 'none');
      assert.match(plan('linux').note ?? '', /neither \/proc\/locks nor lsof/);
    });

    it('macOS: lsof, and says plainly that the locks cannot be seen; never /proc', () => {
      assert.deepEqual(plan('darwin', { lsof: true, procfs: true }), { method: 'lsof', note: MAC_NOTE });
      const none = plan('darwin');
      assert.equal(none.method, 'none');
      assert.match(none.note ?? '', /^Cannot see who has the file open on macOS: lsof \(normally \/usr\/sbin\/lsof\) is not there/);
    });

    it('Windows: Restart Manager through PowerShell, never lsof', () => {
      assert.deepEqual(plan('win32', { powershell: true, lsof: true }), { method: 'restart-manager', note: WIN_NOTE });
      const none = plan('win32', { lsof: true });
      assert.equal(none.method, 'none');
      assert.match(none.note ?? '', /^Cannot see who has the file open on Windows: powershell\.exe/);
    });

    it('FreeBSD and the others: lsof if installed, else "cannot see who has the file open on <platform>"', () => {
      assert.deepEqual(plan('freebsd', { lsof: true }), {
        method: 'lsof',
        note: 'FreeBSD: who has the file open (lsof); which SQLite lock each holds cannot be seen here.',
      });
      assert.equal(plan('freebsd', { procfs: true }).method, 'none');
      assert.match(plan('freebsd').note ?? '', /^Cannot see who has the file open on FreeBSD: it has no \/proc\/locks and lsof is not installed/);
      assert.match(plan('openbsd').note ?? '', /on OpenBSD/);
      assert.match(plan('sunos', { lsof: true }).note ?? '', /^illumos\/Solaris: who has the file open \(lsof\)/);
    });
  });

  // ---------------------------------------------------------------- lsof and ps text
  describe('lsof -F and ps output', () => {
    it("reads macOS lsof's field output: f lines between the names, spaces in paths kept", () => {
      const procs = parseLsof(fixture('darwin-lsof-wal.txt'));
      assert.deepEqual(
        procs.map((p) => [p.pid, p.command, p.names.map((n) => path.basename(n))]),
        [
          [4242, 'node', ['traces.db', 'traces.db-wal', 'traces.db-shm']],
          [6001, 'DB Browser for SQLite', ['traces.db', 'traces.db-wal', 'traces.db-shm']],
          [7310, 'Python', ['traces.db', 'traces.db-wal', 'traces.db-shm']],
        ],
      );
      const spaced = parseLsof(fixture('darwin-lsof-journal.txt'));
      assert.equal(spaced[0].names[0], '/Users/dev/Code/My Projects/traceforge/packages/proxy/.ai-tests/traces.db');
      // stderr (warnings, a vanished -journal) is never parsed as processes.
      assert.deepEqual(parseLsof(fixture('darwin-lsof-journal.stderr.txt')), []);
    });

    it('tells a file removed while open (Linux lsof) from the database', () => {
      const [p] = parseLsof(fixture('linux-lsof-deleted.txt'));
      const names = p.names.map(lsofFileName);
      assert.deepEqual(
        names.filter((n) => n.deleted),
        [{ path: '/tmp/lsofdemo/My Project/traces.db-journal', deleted: true }],
      );
      assert.deepEqual(lsofFileName('/tmp/My Project/traces.db'), { path: '/tmp/My Project/traces.db', deleted: false });
    });

    it('rebuilds argv from ps: comm for an executable path with spaces, existing paths joined back', () => {
      const args = parsePsColumn(fixture('darwin-ps-args-wal.txt'));
      const comm = parsePsColumn(fixture('darwin-ps-comm-wal.txt'));
      assert.deepEqual(
        argvFromPs(args.get(6001)!, comm.get(6001), '/', () => true),
        ['/Applications/DB Browser for SQLite.app/Contents/MacOS/DB Browser for SQLite'],
      );
      assert.deepEqual(
        argvFromPs(args.get(4242)!, comm.get(4242), '/Users/dev/traceforge/packages/proxy', () => true),
        ['node', 'dist/index.js'],
      );
      const line = '/usr/bin/python3 /Users/dev/My Projects/nb.py /Users/dev/My Projects/traces.db';
      const there = new Set(['/Users/dev/My Projects/nb.py']);
      // The script exists and is joined back; the database does not (here), so its words stay apart.
      assert.deepEqual(
        argvFromPs(line, '/usr/bin/python3', undefined, (p) => there.has(p)),
        ['/usr/bin/python3', '/Users/dev/My Projects/nb.py', '/Users/dev/My', 'Projects/traces.db'],
      );
      // Nothing to go by: the words as ps gave them.
      assert.deepEqual(argvFromPs('node a b', 'node'), ['node', 'a', 'b']);
    });
  });

  // ---------------------------------------------------------------- macOS end to end
  describe('sampleLocks on macOS (replayed lsof and ps)', () => {
    it('WAL database: the proxy, DB Browser and a notebook, each with db, -wal and -shm; no locks, and says so', async () => {
      const base = tempDir('darwin-');
      const { db } = checkout(base, ['-wal', '-shm']);
      const { runner, calls } = replay(darwinAnswers('wal'), { from: '/Users/dev', to: base });
      const s = await sampleLocks(db, { platform: 'darwin', runner, findTool: tools({ lsof: MAC_LSOF }) });
      assert.equal(s.source, 'lsof');
      assert.equal(s.note, MAC_NOTE);
      assert.deepEqual(s.locks, []);
      assert.deepEqual(brief(s), [
        [4242, 'proxy', 'TraceForge proxy', 'db,wal,shm'],
        [6001, 'db-browser', 'DB Browser for SQLite', 'db,wal,shm'],
        [7310, 'script', 'python notebook.py', 'db,wal,shm'],
      ]);
      // No lock view, so no verdict on who blocks.
      assert.ok(s.holders.every((h) => h.blocker === undefined && h.locks.length === 0));
      assert.match(holder(s, 6001).command, /^\/Applications\/DB Browser for SQLite\.app/);
      // lsof was asked about the files that exist, by path after `--`, with its warnings off.
      const asked = calls.find((c) => c.args.includes('pcn'))!;
      assert.deepEqual(asked.args, ['-w', '-F', 'pcn', '--', db, `${db}-wal`, `${db}-shm`]);
      // The notebook is named by no rule that places the proxy: lsof checked its port.
      const listen = calls.find((c) => c.args.includes('-sTCP:LISTEN'))!;
      assert.deepEqual(listen.args, ['-w', '-nP', '-a', '-p', '7310', '-iTCP:8787', '-sTCP:LISTEN', '-F', 'p']);
    });

    it('rollback journal under a folder with spaces: sqlite3 and the proxy; a -journal gone before lsof looked', async () => {
      const base = path.join(tempDir('darwin-'), 'Code', 'My Projects');
      const { root, db } = checkout(base, ['-journal']);
      // tsx's preflight exists, so ps's words are joined back into its path.
      const tsx = path.join(root, 'node_modules', '.pnpm', 'tsx@4.19.2', 'node_modules', 'tsx', 'dist');
      fs.mkdirSync(tsx, { recursive: true });
      fs.writeFileSync(path.join(tsx, 'preflight.cjs'), '');
      const { runner, calls } = replay(darwinAnswers('journal'), { from: '/Users/dev/Code/My Projects', to: base });
      const s = await sampleLocks(db, { platform: 'darwin', runner, findTool: tools({ lsof: MAC_LSOF }) });
      assert.equal(s.source, 'lsof');
      assert.equal(s.note, MAC_NOTE);
      assert.deepEqual(brief(s), [
        [8123, 'sqlite3-shell', 'sqlite3 shell', 'db'],
        [9001, 'proxy', 'TraceForge proxy', 'db'],
      ]);
      assert.deepEqual(calls.find((c) => c.args.includes('pcn'))!.args.slice(-2), [db, `${db}-journal`]);
      assert.ok(!calls.some((c) => c.args.includes('-sTCP:LISTEN')), 'everyone was named: no port lookup');

      // Where ps's words cannot be joined back, the proxy is still the proxy by its port.
      fs.rmSync(path.join(tsx, 'preflight.cjs'));
      const again = await sampleLocks(db, { platform: 'darwin', runner, findTool: tools({ lsof: MAC_LSOF }) });
      assert.deepEqual([holder(again, 9001).kind, holder(again, 9001).label], ['proxy', 'TraceForge proxy (port 8787)']);
    });

    it('nobody has it open: an empty list, still from lsof', async () => {
      const { db } = checkout(tempDir('darwin-'), []);
      const { runner, calls } = replay(darwinAnswers('none', { files: ok(fixture('darwin-lsof-none.txt'), '', 1) }));
      const s = await sampleLocks(db, { platform: 'darwin', runner, findTool: tools({ lsof: MAC_LSOF }) });
      assert.deepEqual([s.source, s.holders, s.note], ['lsof', [], MAC_NOTE]);
      assert.equal(calls.length, 1, 'no ps or cwd lookups for nobody');
    });

    it('lsof missing, or gone when run, or too slow: says what it cannot see', async () => {
      const { db } = checkout(tempDir('darwin-'), []);
      const none = await sampleLocks(db, { platform: 'darwin', runner: replay(() => undefined).runner, findTool: tools({}) });
      assert.deepEqual([none.source, none.holders], ['none', []]);
      assert.match(none.note ?? '', /^Cannot see who has the file open on macOS: lsof/);

      const gone = replay(() => ({ stdout: '', stderr: '', code: null, missing: true, timedOut: false }));
      const s = await sampleLocks(db, { platform: 'darwin', runner: gone.runner, findTool: tools({ lsof: MAC_LSOF }) });
      assert.equal(s.source, 'none');
      assert.match(s.note ?? '', /^Cannot see who has the file open on macOS/);

      const slow = replay(() => ({ stdout: '', stderr: '', code: null, missing: false, timedOut: true }));
      const t = await sampleLocks(db, { platform: 'darwin', runner: slow.runner, findTool: tools({ lsof: MAC_LSOF }) });
      assert.equal(t.source, 'lsof');
      assert.equal(t.note, `${MAC_NOTE} lsof did not answer within 10 s, so this list may be incomplete.`);
    });

    it('the poll reuses an answer a while; a full check asks again', async () => {
      const base = tempDir('darwin-');
      const { db } = checkout(base, ['-wal', '-shm']);
      const { runner, calls } = replay(darwinAnswers('wal'), { from: '/Users/dev', to: base });
      const opts = { platform: 'darwin' as const, runner, findTool: tools({ lsof: MAC_LSOF }), cache: new ProcessCache() };
      const first = await sampleLocks(db, { ...opts, scan: 'full' });
      const asked = calls.length;
      const polled = await sampleLocks(db, { ...opts, scan: 'lockers' });
      assert.equal(calls.length, asked, 'no lsof on the quiet poll');
      assert.deepEqual(brief(polled), brief(first));
      assert.match(polled.note ?? '', /^macOS: .*\(As seen \d+ s ago/);
      await sampleLocks(db, { ...opts, scan: 'full' });
      assert.ok(calls.length > asked, 'a full check runs lsof again');
    });
  });

  // ---------------------------------------------------------------- Linux and FreeBSD
  describe('sampleLocks on Linux without /proc and on FreeBSD (replayed lsof)', () => {
    it('Linux: a -journal removed while open is not the database; the note is the Linux one', async () => {
      const base = tempDir('linux-');
      const dir = path.join(base, 'My Project');
      fs.mkdirSync(dir);
      for (const f of ['traces.db', 'traces.db-wal', 'traces.db-shm']) fs.writeFileSync(path.join(dir, f), '');
      const answers = ({ file, args }: Call): CommandResult | undefined => {
        if (file === 'ps') return ok(fixture(args.includes('pid=,args=') ? 'linux-ps-args-deleted.txt' : 'linux-ps-comm-deleted.txt'));
        if (args.includes('cwd')) return ok(fixture('linux-lsof-cwd-deleted.txt'));
        if (args.includes('-sTCP:LISTEN')) return ok('', '', 1);
        return ok(fixture('linux-lsof-deleted.txt'));
      };
      const { runner } = replay(answers, { from: '/tmp/lsofdemo/My Project', to: dir });
      const s = await sampleLocks(path.join(dir, 'traces.db'), {
        platform: 'linux',
        procRoot: tempDir('noproc-'),
        runner,
        findTool: tools({ lsof: '/usr/bin/lsof' }),
      });
      assert.equal(s.source, 'lsof');
      assert.match(s.note ?? '', /^This platform does not show which SQLite lock a process holds \(no \/proc\/locks\)/);
      const [h] = s.holders;
      assert.deepEqual([h.kind, h.label, h.files], ['script', 'python3 hold.py', ['db', 'wal', 'shm']]);
    });

    it('FreeBSD: lsof when installed, never /proc; without it, says it cannot see', async () => {
      const base = tempDir('freebsd-');
      const { db } = checkout(base, ['-wal', '-shm']);
      // FreeBSD's lsof prints what macOS's does for these fields; ps's comm is the short name there.
      const answers = (c: Call) => darwinAnswers('wal')({ ...c, file: c.file === '/usr/local/sbin/lsof' ? MAC_LSOF : c.file });
      const { runner } = replay(answers, { from: '/Users/dev', to: base });
      const s = await sampleLocks(db, { platform: 'freebsd', runner, findTool: tools({ lsof: '/usr/local/sbin/lsof' }) });
      assert.equal(s.source, 'lsof');
      assert.equal(s.note, 'FreeBSD: who has the file open (lsof); which SQLite lock each holds cannot be seen here.');
      assert.equal(holder(s, 4242).kind, 'proxy');
      const none = await sampleLocks(db, { platform: 'freebsd', runner: replay(() => undefined).runner, findTool: tools({}) });
      assert.deepEqual([none.source, none.holders], ['none', []]);
      assert.match(none.note ?? '', /^Cannot see who has the file open on FreeBSD/);
    });
  });

  // ---------------------------------------------------------------- Windows
  describe('Restart Manager (Windows, replayed PowerShell)', () => {
    const WIN_DB = 'C:\\Users\\dev\\traceforge\\packages\\proxy\\.ai-tests\\traces.db';
    const winFiles: TrackedFile[] = (['db', 'wal', 'shm', 'journal'] as const).map((role) => ({
      role,
      path: role === 'db' ? WIN_DB : `${WIN_DB}-${role}`,
    }));

    it('parses the holders and the port listeners', () => {
      const r = parseRestartManagerRun(psRecording('win32-rm-holders.json'));
      assert.ok(r.ok);
      assert.deepEqual(
        r.processes.map((p) => [p.pid, p.appName, p.files.length]),
        [
          [9124, 'Node.js JavaScript Runtime', 3],
          [10440, 'DB Browser for SQLite', 3],
          [11872, 'Python', 3],
          [4388, 'Microsoft Defender Antivirus Service', 1],
        ],
      );
      assert.deepEqual(r.listeners, [9124]);
      assert.equal(r.processes[3].commandLine, null);
      assert.deepEqual(parseRestartManagerRun(psRecording('win32-rm-empty.json')), { ok: true, processes: [], listeners: [] });
    });

    it('turns every failure into a reason: a Restart Manager error, Constrained Language, a failure exit, text that is no JSON', () => {
      const reason = (name: string) => {
        const r = parseRestartManagerRun(psRecording(name));
        assert.ok(!r.ok, name);
        return r.reason;
      };
      assert.equal(reason('win32-rm-rmgetlist-error.json'), 'RmGetList failed with error 121 (The semaphore timeout period has expired.)');
      assert.equal(
        reason('win32-rm-constrained-language.json'),
        'PowerShell could not run the query: Cannot add type. Definition of new types is not supported in this language mode.',
      );
      assert.equal(
        reason('win32-rm-failure-exit.json'),
        'PowerShell exited with code 1: This script contains malicious content and has been blocked by your antivirus software.',
      );
      assert.equal(reason('win32-rm-error-text.json'), "PowerShell printed no answer: Missing closing '}' in statement block or type definition.");
      const text = parseRestartManagerRun(ok('Access is denied.\r\n', '', 5));
      assert.deepEqual(text, { ok: false, reason: 'PowerShell exited with code 5: Access is denied.' });
      assert.deepEqual(parseRestartManagerRun({ stdout: '', stderr: '', code: null, missing: false, timedOut: true }), {
        ok: false,
        reason: 'PowerShell did not answer within 30 s',
      });
    });

    it('names holders from their command line; only the application name where Windows shows nothing more', () => {
      const r = parseRestartManagerRun(psRecording('win32-rm-holders.json'));
      assert.ok(r.ok);
      const { holders, nameOnly } = holdersFromRestartManager(r.processes, r.listeners, winFiles, 8787, 1);
      assert.deepEqual(
        holders.map((h) => [h.pid, h.kind, h.label, h.files.join(',')]),
        [
          [4388, 'other', 'Windows service WinDefend', 'db'],
          // tsx's node child runs `src/index.ts` relative to a folder Windows does not show: the port names it.
          [9124, 'proxy', 'TraceForge proxy (port 8787)', 'db,wal,shm'],
          [10440, 'db-browser', 'DB Browser for SQLite', 'db,wal,shm'],
          [11872, 'script', 'Jupyter kernel', 'db,wal,shm'],
        ],
      );
      assert.deepEqual(nameOnly, [4388]);
      assert.equal(holders[0].command, 'Microsoft Defender Antivirus Service');
      // Without the port, the same process is a script: Windows gives no working folder.
      const { holders: noPort } = holdersFromRestartManager(r.processes, [], winFiles, 8787, 1);
      assert.deepEqual([noPort[1].kind, noPort[1].label], ['script', 'node index.ts']);
    });

    it('sampleLocks runs the script on stdin with the files and the port, and says what Windows cannot show', async () => {
      const base = tempDir('win32-');
      const { db } = checkout(base, ['-wal', '-shm']);
      const winRoot = 'C:\\Users\\dev\\traceforge';
      // The recording's paths, JSON-escaped in stdout, become this test's database.
      const swap = { from: JSON.stringify(winRoot).slice(1, -1), to: JSON.stringify(path.join(base, 'traceforge')).slice(1, -1) };
      const { runner, calls } = replay(({ file }) => (file === POWERSHELL ? psRecording('win32-rm-holders.json') : undefined), swap);
      const s = await sampleLocks(db, { platform: 'win32', runner, findTool: tools({ powershell: POWERSHELL, lsof: '/usr/bin/lsof' }) });
      assert.equal(calls.length, 1);
      const [call] = calls;
      assert.deepEqual(call.args, POWERSHELL_ARGS);
      assert.deepEqual(call.args, ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', '-']);
      assert.equal(call.opts.input, RESTART_MANAGER_SCRIPT);
      assert.equal(call.opts.timeoutMs, 30_000);
      assert.deepEqual(call.opts.env, { [RM_FILES_ENV]: [db, `${db}-wal`, `${db}-shm`].join('\n'), [RM_PORT_ENV]: '8787' });

      assert.equal(s.source, 'restart-manager');
      assert.deepEqual(s.locks, []);
      assert.ok(s.note?.startsWith(WIN_NOTE), s.note);
      assert.match(s.note ?? '', /only the application name of PID 4388, not the command line/);
      assert.deepEqual(
        s.holders.map((h) => [h.pid, h.kind, h.files.join(',')]),
        [
          [4388, 'other', 'db'],
          [9124, 'proxy', 'db,wal,shm'],
          [10440, 'db-browser', 'db,wal,shm'],
          [11872, 'script', 'db,wal,shm'],
        ],
      );
      assert.ok(s.holders.every((h) => h.blocker === undefined));
    });

    it('sampleLocks on Windows: an empty list, every failure as a plain note, no PowerShell at all', async () => {
      const { db } = checkout(tempDir('win32-'), []);
      const run = async (name: string) =>
        sampleLocks(db, { platform: 'win32', runner: replay(() => psRecording(name)).runner, findTool: tools({ powershell: POWERSHELL }) });
      const empty = await run('win32-rm-empty.json');
      assert.deepEqual([empty.source, empty.holders, empty.note], ['restart-manager', [], WIN_NOTE]);
      for (const name of ['win32-rm-rmgetlist-error.json', 'win32-rm-constrained-language.json', 'win32-rm-failure-exit.json', 'win32-rm-error-text.json']) {
        const s = await run(name);
        assert.deepEqual([s.source, s.holders, s.locks], ['none', [], []], name);
        assert.match(
          s.note ?? '',
          /^Cannot see who has the file open on Windows: asking Restart Manager failed \(.+\)\. Which SQLite lock each process holds cannot be seen on Windows at all\.$/,
        );
      }
      const none = await sampleLocks(db, { platform: 'win32', runner: replay(() => undefined).runner, findTool: tools({ lsof: '/usr/bin/lsof' }) });
      assert.deepEqual([none.source, none.holders], ['none', []]);
      assert.match(none.note ?? '', /^Cannot see who has the file open on Windows: powershell\.exe/);
    });

    it('the script survives `-Command -`: one statement, no empty line inside, two line breaks after, ASCII only', () => {
      const lines = RESTART_MANAGER_SCRIPT.split('\n');
      assert.equal(lines[0], '& {');
      assert.ok(RESTART_MANAGER_SCRIPT.endsWith('}\n\n'));
      assert.ok(
        lines.slice(0, -2).every((l) => l.trim().length > 0),
        'an empty line would end the statement early',
      );
      assert.ok(/^[\x20-\x7e\n]*$/.test(RESTART_MANAGER_SCRIPT), 'PowerShell reads stdin in the console code page');
      assert.ok(RESTART_MANAGER_SCRIPT.includes(`$env:${RM_FILES_ENV}`) && RESTART_MANAGER_SCRIPT.includes(`$env:${RM_PORT_ENV}`));
      for (const api of ['RmStartSession', 'RmRegisterResources', 'RmGetList', 'RmEndSession']) assert.ok(RESTART_MANAGER_CSHARP.includes(api), api);
    });
  });

  // ---------------------------------------------------------------- the real runner
  describe('execRunner and resolveExecutable (run for real, on Linux)', () => {
    it('feeds stdin, passes env, and returns stdout, stderr and the exit code', async () => {
      const r = await execRunner('sh', ['-c', 'cat; printf "%s" "$X"; echo oops >&2; exit 3'], { timeoutMs: 10_000, input: 'in\n', env: { X: 'ex' } });
      assert.deepEqual(r, { stdout: 'in\nex', stderr: 'oops\n', code: 3, missing: false, timedOut: false });
    });

    it('a missing program and a timeout are answers, not errors', async () => {
      const gone = await execRunner(path.join(os.tmpdir(), 'no-such-tool-here'), [], { timeoutMs: 10_000 });
      assert.deepEqual([gone.missing, gone.code], [true, null]);
      const slow = await execRunner('sh', ['-c', 'echo started; sleep 5'], { timeoutMs: 200 });
      assert.deepEqual([slow.timedOut, slow.stdout], [true, 'started\n']);
    });

    it('finds a program on PATH, and a given path only if it is executable', () => {
      const dir = tempDir('tools-');
      const tool = path.join(dir, 'lsof');
      fs.writeFileSync(tool, '#!/bin/sh\n');
      assert.equal(resolveExecutable('lsof', 'linux', { PATH: dir }), undefined, 'not executable yet');
      fs.chmodSync(tool, 0o755);
      assert.equal(resolveExecutable('lsof', 'linux', { PATH: `/nonexistent:${dir}` }), tool);
      assert.equal(resolveExecutable(tool, 'linux', {}), tool);
      assert.equal(resolveExecutable('/nonexistent/lsof', 'linux', { PATH: dir }), undefined);
    });
  });
});
