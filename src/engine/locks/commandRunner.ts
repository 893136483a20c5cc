// The one way the lock view runs an outside program (lsof, ps, PowerShell), so tests can
// hand the same code a runner that replays what those programs printed on macOS or
// Windows: nothing here runs them, and a replay is the honest stand-in.
import { spawn } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** The exit code; null when the program was killed or never started. */
  code: number | null;
  /** The program is not there (ENOENT) or may not be run (EACCES). */
  missing: boolean;
  /** Killed after `timeoutMs`: stdout holds what it printed until then. */
  timedOut: boolean;
}

export interface CommandOptions {
  timeoutMs: number;
  /** Written to the program's stdin, which is then closed. */
  input?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

export type CommandRunner = (file: string, args: readonly string[], opts: CommandOptions) => Promise<CommandResult>;

/** What a runaway lsof may print before it is cut off: far more than a few files' holders. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Runs `file` for real. Never throws: a missing program or a timeout is part of the answer. */
export const execRunner: CommandRunner = (file, args, opts) =>
  new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let settled = false;
    const finish = (r: Omit<CommandResult, 'stdout' | 'stderr'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ...r });
    };
    const child = spawn(file, [...args], {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Windows would flash a console window for every PowerShell run.
      windowsHide: true,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill();
      // A grandchild (PowerShell's C# compiler) can keep the pipes open after the kill: answer now.
      finish({ code: null, missing: false, timedOut });
    }, opts.timeoutMs);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
      else child.kill();
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => finish({ code: null, missing: e.code === 'ENOENT' || e.code === 'EACCES', timedOut }));
    child.on('close', (code) => finish({ code, missing: false, timedOut }));
    // A program that exits without reading its stdin makes the write fail with EPIPE: not our error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
