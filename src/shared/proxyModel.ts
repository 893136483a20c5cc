// The proxy's side of the model: which database files a workspace holds, how to restart
// the proxy, and what killing or stopping a process did. Declared in the protocol's
// room (docs/DESIGN.md, "One typed protocol").
import type { Holder } from './model';

export type CandidateSource = 'proxy-open' | 'env' | 'proxy-dir' | 'root' | 'found';

export interface DbCandidate {
  dbPath: string;
  /** The strongest reason it is a candidate (proxy-open beats env beats the usual places). */
  source: CandidateSource;
  exists: boolean;
  /** PIDs of proxy processes that have this file open right now. */
  openByProxy: number[];
  /** Where the proxy that writes it runs: the folder holding `.ai-tests/`. */
  proxyDir: string;
  /** The proxy's log file for this DB (the newest of the usual places), or where Restart Proxy keeps one. */
  logPath: string;
  /** False when no log file exists yet: the proxy logs to stdout. */
  logExists: boolean;
}

export interface ProxyLaunch {
  /** The shell command, run from `cwd`. */
  command: string;
  cwd: string;
  /** Which script it runs and why, for the user. */
  reason: string;
  /** The script chosen ('dev', 'start', 'build+start'), or 'custom' for the setting. */
  script: 'dev' | 'start' | 'build+start' | 'custom' | 'none';
  /** Where the command's output is kept (tee), when it is. */
  logPath?: string;
  /** Environment taken over from the proxy that ran before (see proxyEnvOf). */
  env?: Record<string, string>;
}

export type KillSignal = 'SIGTERM' | 'SIGKILL';

export interface KillResult {
  pid: number;
  signal: KillSignal;
  /** Still running after the grace period: offer SIGKILL. */
  stillAlive: boolean;
  holder: Holder;
  message: string;
}

export interface StopProxyResult {
  /** Proxy processes and launchers signalled, with what became of them. */
  stopped: { pid: number; label: string; exited: boolean }[];
  message: string;
}
