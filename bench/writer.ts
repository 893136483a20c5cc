// A real writer process standing in for the TraceForge proxy: test/fixtures/actor.cjs
// in `writer` mode inserts N traces a second through its own connection, so its
// locks, busy handler and commit latency are those of a separate process (a writer
// in the bench process would share its POSIX locks and event loop, and prove nothing).
import { spawn, type ChildProcess } from 'node:child_process';
import { ACTOR, REPO } from './common';

// The actor's summary line; declared once beside the helpers that start it in tests.
export type { WriterSummary } from '../test/support/helpers';
import type { WriterSummary } from '../test/support/helpers';

export interface Writer {
  pid: number;
  /** Closes its stdin (it finishes the insert in flight, closes the DB) and resolves with its summary. */
  stop(): Promise<WriterSummary>;
}

export interface WriterOptions {
  rate: number;
  busyTimeoutMs: number;
  /** A script that runs actor.cjs under another name (the quiet bench's packages/proxy/dist/index.js). */
  entry?: string;
  cwd?: string;
}

/** Starts the writer and resolves once its first commit landed (`ready PID`). */
export function startWriter(db: string, opts: WriterOptions): Promise<Writer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [opts.entry ?? ACTOR, 'writer', db, '--rate', String(opts.rate), '--busy-timeout', String(opts.busyTimeoutMs)],
    { cwd: opts.cwd ?? REPO, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer did not get ready within 30 s: ${stderr}`));
    }, 30_000);
    let ready = false;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!ready && /^ready (\d+)$/m.test(stdout)) {
        ready = true;
        clearTimeout(timer);
        resolve({
          pid: child.pid!,
          stop: async () => {
            child.stdin!.end();
            const code = await exited;
            const line = stdout.split('\n').find((l) => l.startsWith('summary '));
            if (code !== 0 || !line) throw new Error(`writer exited with ${code} and no summary: ${stderr}`);
            return JSON.parse(line.slice('summary '.length)) as WriterSummary;
          },
        });
      }
    });
    void exited.then((code) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`writer exited (${code}) before its first commit: ${stderr}`));
      }
    });
  });
}
