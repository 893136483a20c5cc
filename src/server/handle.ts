// How every request handler answers: timed in the log, a DoctorError reaches the user as
// it is (what to do next), anything else as a bug with its stack in the log. And the
// client's progress token as the engine's onProgress callback, closed however the work ends.
import { ResponseError, type Connection, type ProgressToken } from 'vscode-languageserver/node';
import { DoctorError } from '../engine';
import * as proto from '../shared/protocol';

export interface ProgressReport {
  message: string;
  percent?: number;
}

export class Handler {
  constructor(private readonly connection: Connection) {}

  /**
   * Runs a handler; DoctorErrors reach the user as they are, anything else as a bug.
   * `quiet`: no log line when it succeeds (a request the client polls every second).
   */
  async run<T>(what: string, fn: () => Promise<T>, opts: { quiet?: boolean } = {}): Promise<T> {
    const started = performance.now();
    try {
      const result = await fn();
      if (!opts.quiet) this.connection.console.log(`${what}: ${Math.round(performance.now() - started)} ms`);
      return result;
    } catch (e) {
      if (e instanceof DoctorError) {
        this.connection.console.warn(`${what}: ${e.message}`);
        throw new ResponseError(proto.USER_FACING_ERROR, e.message);
      }
      this.connection.console.error(`${what} failed: ${(e as Error)?.stack ?? e}`);
      throw new ResponseError(-32603, `${what} failed: ${(e as Error)?.message ?? e}`);
    }
  }

  /** `fn` with the client's progress (if it sent a token); the progress ends with it, always. */
  async withProgress<T>(token: ProgressToken | undefined, title: string, fn: (report: (e: ProgressReport) => void) => Promise<T>): Promise<T> {
    const reporter = this.connection.window.attachWorkDoneProgress(token);
    reporter.begin(title, 0, undefined, false);
    try {
      return await fn((e) => reporter.report(e.percent ?? 0, e.message));
    } finally {
      reporter.done();
    }
  }
}
