// The 3 a.m. line: a "database is locked" in the proxy's log, and who held the lock that
// caused it. The proxy logs the error after its busy timeout ran out, so the blocker held
// the lock until just before that moment, and may have let go of it in the very instant
// the proxy gave up: holds that ended up to a second before the error still count. Log
// times without milliseconds (pino-pretty's `[04:35:58 UTC]`) can be up to a second
// early, so holds that began within a second after it count too.
import { LOCK_ORDER } from '../locks/lockBytes';
import type { LockErrorEvent, LockHold } from '../../shared/monitorModel';
import type { SqliteLockName } from '../../shared/model';

/** How long before the logged moment a released blocking lock still counts. */
export const BLAME_BEFORE_MS = 1000;
/** How long after it: the logged time may be cut to whole seconds. */
export const BLAME_AFTER_MS = 1000;
/** The event's first line is cut to this many characters. */
export const EVENT_TEXT_MAX = 200;

// A colour code pino-pretty writes when forced to colourise.
const ANSI_RE = /\x1b\[[\d;]*m/g; // eslint-disable-line no-control-regex

// pino's JSON line: its message and the error's, which say more than the raw JSON.
const JSON_MSG_RE = /"msg"\s*:\s*"((?:[^"\\]|\\.)*)"/;
const JSON_ERR_RE = /"message"\s*:\s*"((?:[^"\\]|\\.)*)"/;

/** The event's first line as the user should read it: no colour codes, one line, shortened. */
export function eventText(line: string): string {
  let t = line.replace(ANSI_RE, '').replace(/\s+/g, ' ').trim();
  if (t.startsWith('{')) {
    const msg = JSON_MSG_RE.exec(t)?.[1];
    const err = JSON_ERR_RE.exec(t)?.[1];
    if (msg !== undefined || err !== undefined) t = [msg, err].filter((x) => x !== undefined && x !== '').join(': ');
  }
  return t.length > EVENT_TEXT_MAX ? `${t.slice(0, EVENT_TEXT_MAX - 1)}…` : t;
}

/**
 * The other processes whose blocking-lock holds overlap the moment `at` of a lock error,
 * each with how long it had held that lock then (or until it let go, if just before),
 * strongest lock first, then longest held.
 */
export function blame(at: number, holds: Iterable<LockHold>, now: number): LockErrorEvent['blamed'] {
  const found = new Map<string, LockErrorEvent['blamed'][number]>();
  for (const h of holds) {
    if (!h.blocksProxy || h.start > at + BLAME_AFTER_MS || (h.end ?? now) < at - BLAME_BEFORE_MS) continue;
    const heldMs = Math.max(0, Math.min(at, h.end ?? now) - h.start);
    const key = `${h.pid}|${h.lock}`;
    const dup = found.get(key);
    // Two holds of one lock by one process both near the moment: the longer one is the story.
    if (dup) dup.heldMs = Math.max(dup.heldMs, heldMs);
    else found.set(key, { pid: h.pid, holder: h.holder, lock: h.lock, heldMs });
  }
  const out = [...found.values()].map((b) => ({ ...b, rank: LOCK_ORDER.indexOf(b.lock) }));
  out.sort((a, b) => a.rank - b.rank || b.heldMs - a.heldMs || a.pid - b.pid);
  return out.map(({ pid, holder, lock, heldMs }) => ({ pid, holder, lock, heldMs }));
}

/**
 * "RESERVED and SHARED for 6.2 s", or "SHARED for 9.8 s and RESERVED for 1.0 s": one
 * process's locks (strongest first), those held about as long said together.
 */
export function heldPhrase(locks: readonly { lock: SqliteLockName; ms: number }[]): string {
  const groups: { locks: SqliteLockName[]; ms: number }[] = [];
  for (const l of locks) {
    const g = groups.find((x) => Math.abs(x.ms - l.ms) < 100);
    if (g) g.locks.push(l.lock);
    else groups.push({ locks: [l.lock], ms: l.ms });
  }
  const and = (words: string[]) => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`);
  return and(groups.map((g) => `${and(g.locks)} for ${(g.ms / 1000).toFixed(1)} s`));
}

/** One line for a terminal or a report: "at 04:35:58 UTC the proxy failed; PID 21898 (python3 notebook.py) had held RESERVED for 6.2 s". */
export function describeLockError(e: LockErrorEvent): string {
  const when = new Date(e.at).toISOString().slice(11, 19);
  if (!e.blamed.length) return `at ${when} UTC the proxy failed: ${e.text}; no other process held a blocking lock then (as sampled)`;
  const pids = [...new Set(e.blamed.map((b) => b.pid))];
  const who = pids.map((pid) => {
    const mine = e.blamed.filter((b) => b.pid === pid);
    return `PID ${pid} (${mine[0].holder}) had held ${heldPhrase(mine.map((b) => ({ lock: b.lock, ms: b.heldMs })))}`;
  });
  return `at ${when} UTC the proxy failed; ${who.join('; ')}`;
}
