// What `npm start` says while it works: numbered steps, each with what it is, how much and
// how long to expect, the elapsed time every ~10 s while a long command runs (with a
// one-line summary of what that command is doing, read from its output), and the total.
// The full output of every command goes to a log file, so the console stays readable and
// a failure can still be investigated.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

/** `75 s`, `2 min 05 s`. */
export function duration(ms) {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** `4.4 MB`, `812 kB`. */
export function bytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)} MB`;
  return `${Math.max(1, Math.round(n / 1e3))} kB`;
}

export class Progress {
  /** `out`: where to write (stdout); `steps`: how many numbered steps there will be. */
  constructor({ steps, out = process.stdout } = {}) {
    this.total = steps;
    this.n = 0;
    this.out = out;
    this.started = Date.now();
  }

  say(line = '') {
    this.out.write(`${line}\n`);
  }

  /** A numbered step's headline. */
  step(what) {
    this.n++;
    this.stepStarted = Date.now();
    this.say(`[${this.n}/${this.total}] ${what}`);
  }

  /** An indented detail line under the current step. */
  detail(line) {
    this.say(`      ${line}`);
  }

  /** Closes the current step with its time. */
  done(summary) {
    this.detail(`done in ${duration(Date.now() - this.stepStarted)}${summary ? `: ${summary}` : ''}`);
  }

  elapsed() {
    return duration(Date.now() - this.started);
  }
}

/**
 * Runs `cmd args`, keeping its output in `logFile` (appended) and the last lines in
 * memory, and prints `elapsed: <status>` every `tickMs` while it runs. `onLine` sees every
 * line of stdout and stderr; `status()` says what the command is doing now (or nothing).
 * Resolves with the exit code and the last lines, for an error message.
 */
export function runWatched(cmd, args, { cwd, env, logFile, say, indent = '        ', tickMs = 10_000, onLine = () => {}, status = () => '' }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const log = logFile ? fs.openSync(logFile, 'a') : undefined;
    if (log !== undefined) fs.writeSync(log, `\n$ ${[cmd, ...args].join(' ')}   (in ${cwd ?? process.cwd()}, ${new Date().toISOString()})\n`);
    const tail = [];
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const feed = (stream) => {
      let rest = '';
      stream.on('data', (chunk) => {
        if (log !== undefined) fs.writeSync(log, chunk);
        const lines = (rest + chunk.toString('utf8')).split(/\r?\n|\r/);
        rest = lines.pop() ?? '';
        for (const l of lines) {
          const line = l.replace(/\x1b\[[\d;]*[A-Za-z]/g, '').trimEnd();
          if (!line) continue;
          tail.push(line);
          if (tail.length > 30) tail.shift();
          onLine(line);
        }
      });
    };
    feed(child.stdout);
    feed(child.stderr);
    const timer = setInterval(() => {
      const s = status();
      say(`${indent}${duration(Date.now() - started)}${s ? `: ${s}` : ''}`);
    }, tickMs);
    const finish = (code, error) => {
      clearInterval(timer);
      if (log !== undefined) fs.closeSync(log);
      resolve({ code, tail, error, ms: Date.now() - started });
    };
    child.once('error', (e) => finish(-1, e));
    child.once('close', (code) => finish(code ?? -1));
  });
}
