// A health report as text a person reads: the runbook's sections in its order
// (database, files, who has it open, logs), then the findings with their fixes.
// Plain text for the CLI; markdown for a diagnostic report pasted into an issue. Both
// leave the machine (pasted into issues, CI logs), so secrets are redacted on the way out.
import { describeLock, FIX_TITLES, formatBytes } from './labels';
import { redact } from './redact';
import type { HealthReport, LockSample, SqliteBackendInfo } from './model';

interface Style {
  heading(s: string): string;
  item(s: string): string;
  code(s: string): string;
}

const TEXT: Style = { heading: (s) => `\n${s}\n${'-'.repeat(s.length)}`, item: (s) => `  ${s}`, code: (s) => s };
const MARKDOWN: Style = { heading: (s) => `\n### ${s}\n`, item: (s) => `- ${s}`, code: (s) => '`' + s.replace(/`/g, "'") + '`' };

export function formatLockLines(sample: Pick<LockSample, 'holders' | 'locks' | 'source' | 'note'>, style: Style = TEXT): string[] {
  const lines: string[] = [];
  if (sample.note) lines.push(style.item(sample.note));
  const lockLines = sample.locks.filter((l) => l.lock !== 'WAL_OPEN');
  // Only /proc/locks says which SQLite lock each process holds; lsof and the Restart
  // Manager say who has the file open, so "no lock" would be a claim they cannot make.
  if (sample.source === 'proc') {
    if (!lockLines.length) lines.push(style.item('No SQLite lock is held right now.'));
    for (const l of lockLines) {
      const state = l.waiting ? 'waiting for' : l.stuck ? `STUCK ${Math.round((Date.now() - l.since) / 1000)} s` : 'holds';
      lines.push(style.item(`PID ${l.pid} ${state} ${l.lock} on ${l.file === 'db' ? 'the database' : '-shm'}: ${describeLock(l.lock)}`));
    }
  }
  lines.push('');
  lines.push(sample.holders.length ? 'Processes with the database open:' : 'No process has the database open.');
  for (const h of sample.holders) {
    const locks = h.locks.length ? ` [${h.locks.join(', ')}]` : '';
    lines.push(style.item(`PID ${h.pid} ${h.label}${h.self ? ' (this doctor)' : ''}${locks} (${h.files.join(', ')}): ${style.code(redact(h.command))}`));
  }
  return lines;
}

/** The engine in a few words: "node:sqlite (built into Node 24.9.0, SQLite 3.50.4; the native module did not load: …)". */
export function describeSqliteBackend(b: SqliteBackendInfo): string {
  const sqlite = b.version ? `SQLite ${b.version}` : undefined;
  if (b.name === 'none') return `none: ${b.reason ?? 'no engine loaded'}`;
  const what = b.name === 'native' ? ['@vscode/sqlite3', sqlite] : [`built into Node ${b.node}`, sqlite];
  const detail = what.filter(Boolean).join(', ');
  return `${b.name} (${detail}${b.reason ? `; ${b.reason}` : ''})`;
}

export function formatReport(r: HealthReport, opts: { markdown?: boolean } = {}): string {
  const s = opts.markdown ? MARKDOWN : TEXT;
  const out: string[] = [];
  const verdict = r.healthy ? 'HEALTHY' : r.reachable ? 'PROBLEMS FOUND' : 'NOT REACHABLE';
  out.push(opts.markdown ? `## Trace DB Doctor report: ${verdict}` : `Trace DB Doctor: ${verdict}`);
  out.push(`${s.code(r.path)} · checked ${r.checkedAt} (${r.mode}, ${r.durationMs} ms)`);

  out.push(s.heading('Database'));
  out.push(s.item(`Reachable: ${r.reachable ? 'yes' : `no (${r.unreachableReason})`}`));
  out.push(s.item(`Journal mode: ${r.journalMode}${r.journalModeSource === 'header' ? ' (from the file header)' : ''}`));
  if (r.sqliteBackend) out.push(s.item(`SQLite: ${describeSqliteBackend(r.sqliteBackend)}`));
  if (r.header) {
    const h = r.header;
    out.push(s.item(`Size: ${formatBytes(r.files.db.size)} · page size ${h.pageSize} · ${h.pageCount} pages · ${h.freelistPages} free`));
  }
  if (r.traceCount)
    out.push(
      s.item(
        `Traces: ${r.traceCount.estimate ? '≈ ' : ''}${r.traceCount.value.toLocaleString('en-US')}${r.traceCount.estimate ? ' (estimate; --count for exact)' : ''}`,
      ),
    );
  if (r.schema) out.push(s.item(`Tables: ${r.schema.tables.join(', ') || 'none'}${r.schema.hasFts ? ' · full-text search' : ''}`));
  if (r.fs) out.push(s.item(`Filesystem: ${r.fs.fsType} at ${r.fs.mountPoint}${r.fs.unsafeForWal ? ' (UNSAFE for WAL)' : ''}`));
  if (r.integrity) {
    const i = r.integrity;
    out.push(
      s.item(
        `Integrity: ${i.ran === false ? `could not run (${i.notRunReason ?? 'unknown reason'})` : i.ok ? 'ok' : i.messages.join('; ')}${i.onCopy && i.ran !== false ? ' (checked on a copy)' : ''}`,
      ),
    );
  }

  out.push(s.heading('Files'));
  const f = r.files;
  out.push(s.item(`-wal: ${f.wal.exists ? formatBytes(f.wal.size) : 'none'}`));
  out.push(s.item(`-shm: ${f.shm.exists ? formatBytes(f.shm.size) : 'none'}`));
  out.push(s.item(`-journal: ${f.journal.exists ? `${formatBytes(f.journal.size)}${f.journal.hot ? ' (HOT: left by a crashed writer)' : ''}` : 'none'}`));

  out.push(s.heading('Locks and processes'));
  out.push(...formatLockLines({ holders: r.holders, locks: r.locks, source: r.lockSource, note: r.lockNote }, s));

  if (r.log) {
    out.push(s.heading('Proxy log'));
    const l = r.log;
    if (!l.exists)
      out.push(
        s.item(
          `No log file at ${s.code(l.path)}: the proxy logs to stdout only. Restart Proxy keeps its output there; or start it with \`… 2>&1 | tee -a ${l.path}\`.`,
        ),
      );
    else if (l.error) out.push(s.item(`${s.code(l.path)}: ${l.error}`));
    else {
      out.push(
        s.item(
          `${s.code(l.path)}: ${l.lockErrors} "database is locked"${l.complete ? '' : ` in the last ${formatBytes(l.scannedBytes)} of ${formatBytes(l.totalBytes)}`}`,
        ),
      );
      if (l.first) out.push(s.item(`First: ${l.first} · last: ${l.last}`));
      for (const h of l.perHour.slice(-6)) out.push(s.item(`  ${h.hour.slice(0, 13)}h: ${h.count}`));
    }
  }

  out.push(s.heading('Findings'));
  if (!r.findings.length) out.push(s.item('Nothing wrong found.'));
  for (const fd of r.findings) {
    out.push(s.item(`[${fd.severity.toUpperCase()}] ${fd.code}: ${fd.title}`));
    out.push(s.item(`    ${fd.message}`));
    if (fd.fixes.length) out.push(s.item(`    Fixes: ${fd.fixes.map((x) => FIX_TITLES[x]).join(' · ')}`));
  }
  if (opts.markdown) {
    out.push(s.heading('Escalation (RUNBOOK-002)'));
    out.push('If the database keeps locking after WAL and a 5 s busy timeout:');
    out.push(s.item('Check for slow queries (add query logging to the proxy).'));
    out.push(s.item('Review transaction size: break up large transactions.'));
    out.push(s.item('Consider a PostgreSQL migration for very high load.'));
    out.push(s.item('Contact: Backend Team. Severity P2 (High), expected resolution < 30 minutes.'));
  }
  // Findings quote command lines too (a blocker's); the whole text goes through once more.
  return redact(out.join('\n') + '\n');
}
