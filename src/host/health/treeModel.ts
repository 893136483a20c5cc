// What the health tree shows for one database, computed from its health report: the
// runbook's sections, problems first. No `vscode` import: plain mocha tests cover every
// rule here; HealthTree only copies these models into TreeItems.
import * as path from 'node:path';
import { activityOf, ago, describeLock, FIX_TITLES, formatBytes, formatDuration } from '../../shared/labels';
import type { Severity } from '../../shared/protocol';
import { describeSqliteBackend } from '../../shared/reportText';
import { SETTINGS } from '../../shared/settings';
import { monitorFigures, monitorHeading, monitorLine, samplingNote } from '../monitor/summaryText';
import { candidateDescription, otherCandidates, type DbEntry } from './dbEntry';

export interface TreeNodeModel {
  id: string;
  label: string;
  description?: string;
  /** A codicon id, e.g. 'database'. */
  icon: string;
  /** Theme colour id for the icon, e.g. 'problemsErrorIcon.foreground'. */
  color?: string;
  tooltip?: string;
  /** Matched by package.json `when` clauses: `finding fix:enableWal …`, `holder`. */
  contextValue?: string;
  children?: TreeNodeModel[];
  expanded?: boolean;
  /** For holder and finding nodes: the processes they are about. */
  pids?: number[];
  /** For a found database: clicking it makes it the folder's watched DB. */
  candidate?: { folderUri: string; dbPath: string };
  dbPath: string;
}

const SEVERITY_ICON: Record<Severity, [string, string]> = {
  error: ['error', 'problemsErrorIcon.foreground'],
  warning: ['warning', 'problemsWarningIcon.foreground'],
  info: ['info', 'problemsInfoIcon.foreground'],
};

function leaf(
  parent: string,
  key: string,
  label: string,
  description: string | undefined,
  icon: string,
  dbPath: string,
  extra: Partial<TreeNodeModel> = {},
): TreeNodeModel {
  return { id: `${parent}/${key}`, label, description, icon, dbPath, ...extra };
}

export function treeModel(entry: DbEntry): TreeNodeModel[] {
  const r = entry.report;
  const id = entry.dbPath;
  if (!r) return [leaf(id, 'pending', 'Checking…', undefined, 'loading~spin', id)];
  const sections: TreeNodeModel[] = [];

  // Problems first: what to do is what the user came for.
  const problems = r.findings.map((f, i) =>
    leaf(id, `finding/${f.code}/${i}`, f.title, f.severity, SEVERITY_ICON[f.severity][0], id, {
      color: SEVERITY_ICON[f.severity][1],
      tooltip: `${f.message}\n\nFixes: ${f.fixes.map((x) => FIX_TITLES[x]).join(' · ') || 'none'}`,
      contextValue: ['finding', ...f.fixes.map((x) => `fix:${x}`)].join(' '),
      pids: f.pids,
    }),
  );
  sections.push({
    id: `${id}/problems`,
    label: 'Problems',
    description: problems.length ? String(problems.length) : 'none',
    icon: problems.length ? SEVERITY_ICON[r.findings[0].severity][0] : 'pass',
    color: problems.length ? SEVERITY_ICON[r.findings[0].severity][1] : 'testing.iconPassed',
    children: problems,
    expanded: true,
    dbPath: id,
  });

  const db: TreeNodeModel[] = [
    leaf(id, 'path', 'Path', r.path, 'file', id, { tooltip: r.path }),
    leaf(id, 'reachable', 'Reachable', r.reachable ? 'yes' : `no: ${r.unreachableReason}`, r.reachable ? 'check' : 'error', id),
    leaf(
      id,
      'mode',
      'Journal mode',
      r.journalMode === 'wal' ? 'WAL' : r.journalMode === 'unknown' ? 'unknown' : `rollback journal (${r.journalMode}), not WAL`,
      r.journalMode === 'wal' ? 'check' : 'warning',
      id,
      {
        tooltip:
          r.journalModeSource === 'header'
            ? 'Read from the file header (bytes 18-19) without opening a connection, so a rollback journal shows as "delete" whatever its exact mode.'
            : 'PRAGMA journal_mode from a fresh read-only connection.',
        ...(r.journalMode === 'wal' || !r.reachable ? {} : { contextValue: 'fix:enableWal' }),
      },
    ),
  ];
  if (r.header) {
    db.push(
      leaf(
        id,
        'size',
        'Size',
        `${formatBytes(r.files.db.size)} · ${r.header.pageCount} pages of ${r.header.pageSize} B · ${r.header.freelistPages} free`,
        'database',
        id,
      ),
    );
  }
  if (r.traceCount) {
    db.push(
      leaf(id, 'traces', 'Traces', `${r.traceCount.estimate ? '≈ ' : ''}${r.traceCount.value.toLocaleString('en-US')}`, 'list-ordered', id, {
        tooltip: r.traceCount.estimate ? 'Estimate from max(rowid); Count Traces Exactly for COUNT(*).' : 'Exact COUNT(*).',
      }),
    );
  }
  if (r.fs)
    db.push(leaf(id, 'fs', 'Filesystem', `${r.fs.fsType} at ${r.fs.mountPoint}`, r.fs.unsafeForWal ? 'warning' : 'server', id, { tooltip: r.fs.reason }));
  if (r.integrity) {
    const i = r.integrity;
    // A check that could not run says nothing about the data: never "FAILED" for it.
    const [text, icon] = i.ran === false ? ['could not run', 'warning'] : i.ok ? ['ok', 'verified'] : ['FAILED', 'error'];
    db.push(leaf(id, 'integrity', 'Integrity', text, icon, id, { tooltip: i.ran === false ? (i.notRunReason ?? '') : i.messages.join('\n') }));
  }
  if (r.sqliteBackend) {
    const engine = describeSqliteBackend(r.sqliteBackend);
    db.push(leaf(id, 'sqlite', 'SQLite', engine, r.sqliteBackend.name === 'none' ? 'warning' : 'plug', id, { tooltip: `SQLite: ${engine}` }));
  }
  sections.push({ id: `${id}/database`, label: 'Database', description: path.basename(r.path), icon: 'database', children: db, expanded: true, dbPath: id });

  const f = r.files;
  sections.push({
    id: `${id}/files`,
    label: 'Files',
    icon: 'files',
    dbPath: id,
    children: [
      leaf(id, 'wal', '-wal', f.wal.exists ? formatBytes(f.wal.size) : 'none', 'file', id),
      leaf(id, 'shm', '-shm', f.shm.exists ? formatBytes(f.shm.size) : 'none', 'file', id),
      leaf(
        id,
        'journal',
        '-journal',
        f.journal.exists ? `${formatBytes(f.journal.size)}${f.journal.hot ? ' · HOT' : ''}` : 'none',
        f.journal.hot ? 'warning' : 'file',
        id,
      ),
    ],
  });

  // Every open WAL connection holds WAL_OPEN, and SHARED on the DB file beside it, for its
  // lifetime; and the proxy's own commit locks come and go many times a second. Neither is
  // news: a lock shows once it is held long enough to matter (stuck) or by someone else.
  const walOpen = new Set(r.locks.filter((l) => l.lock === 'WAL_OPEN').map((l) => l.pid));
  const proxyPids = new Set(r.holders.filter((h) => h.kind === 'proxy').map((h) => h.pid));
  const visible = r.locks.filter((l) => l.lock !== 'WAL_OPEN' && !(l.lock === 'SHARED' && walOpen.has(l.pid)));
  const locks = visible.filter((l) => l.stuck || !proxyPids.has(l.pid));
  const committing = visible.some((l) => !l.stuck && proxyPids.has(l.pid));
  const holderLabel = (pid: number) => r.holders.find((h) => h.pid === pid)?.label;
  // The lock monitor's last minutes under the locks of the moment: the history they are part of.
  const history = r.monitor
    ? [
        leaf(id, 'monitor', monitorHeading(r.monitor), monitorFigures(r.monitor), 'pulse', id, {
          tooltip: `${monitorLine(r.monitor)}\n${samplingNote(r.monitor)}\n\nOpen the Lock Monitor for the timeline.`,
          contextValue: 'lockMonitor',
        }),
      ]
    : [];
  sections.push({
    // A stable id: VS Code keeps the section's expansion across updates, and the rows update in place.
    id: `${id}/locks`,
    label: 'Locks now',
    description: locks.length ? String(locks.length) : committing ? 'proxy committing' : 'none',
    icon: locks.length ? 'lock' : 'unlock',
    expanded: true,
    dbPath: id,
    // Its inline action opens the Lock Monitor (package.json menus).
    contextValue: 'lockMonitor',
    children: [
      ...(locks.length
        ? locks.map((l) =>
            leaf(
              id,
              `lock/${l.pid}/${l.file}/${l.lock}`,
              `${l.lock}`,
              `PID ${l.pid}${holderLabel(l.pid) ? ` ${holderLabel(l.pid)}` : ''}${l.stuck ? ` · held ${formatDuration((r.checkedAt ? Date.parse(r.checkedAt) : Date.now()) - l.since)}` : ''}${l.waiting ? ' · waiting' : ''}`,
              l.stuck ? 'lock' : 'key',
              id,
              {
                color: l.stuck ? 'problemsErrorIcon.foreground' : undefined,
                tooltip: `${describeLock(l.lock)} (${l.file === 'db' ? 'database file' : '-shm'})${l.stuck ? `\nHeld since ${new Date(l.since).toISOString()}` : ''}`,
                pids: [l.pid],
              },
            ),
          )
        : [
            leaf(
              id,
              'nolock',
              r.lockSource !== 'proc'
                ? 'Which locks are held cannot be seen on this platform'
                : committing
                  ? 'No lock held long (the proxy commits in milliseconds)'
                  : 'No lock held',
              r.lockNote,
              'check',
              id,
            ),
          ]),
      ...history,
    ],
  });

  sections.push({
    id: `${id}/holders`,
    label: 'Processes with the DB open',
    description: String(r.holders.length),
    icon: 'server-process',
    expanded: true,
    dbPath: id,
    children: r.holders.map((h) =>
      leaf(
        id,
        `holder/${h.pid}`,
        `PID ${h.pid}`,
        `${h.label}${h.blocker ? ' · blocking the proxy' : ''} · ${activityOf(h.locks)}`,
        h.self ? 'pulse' : h.blocker ? 'error' : 'terminal',
        id,
        {
          color: h.blocker ? 'problemsErrorIcon.foreground' : undefined,
          tooltip: `${h.command}\nFiles: ${h.files.join(', ')}\nSQLite locks: ${h.locks.join(', ') || 'none'}`,
          contextValue: h.self ? 'holder-self' : 'holder',
          pids: [h.pid],
        },
      ),
    ),
  });

  const others = otherCandidates(entry);
  if (others.length) {
    const current = (entry.candidates ?? []).find((c) => c.dbPath === entry.dbPath);
    sections.push({
      id: `${id}/found`,
      label: 'Databases found',
      description: String(others.length + 1),
      icon: 'search',
      dbPath: id,
      tooltip: 'Every trace database the proxy in this folder may use. Click one to watch it instead (remembered for this folder).',
      expanded: true,
      children: [
        leaf(
          id,
          'found/current',
          path.basename(path.dirname(path.dirname(entry.dbPath))) + '/.ai-tests/' + path.basename(entry.dbPath),
          `watched · ${current ? candidateDescription(current) : entry.chosenBy === 'setting' ? SETTINGS.databasePath.key : 'chosen'}`,
          'eye',
          id,
          { tooltip: entry.dbPath },
        ),
        ...others.map((c) =>
          leaf(
            id,
            `found/${c.dbPath}`,
            path.basename(path.dirname(path.dirname(c.dbPath))) + '/.ai-tests/' + path.basename(c.dbPath),
            candidateDescription(c),
            c.openByProxy.length ? 'warning' : 'database',
            id,
            {
              tooltip: `${c.dbPath}\nClick to watch this database instead.`,
              candidate: { folderUri: entry.folderUri, dbPath: c.dbPath },
              contextValue: 'dbCandidate',
            },
          ),
        ),
      ],
    });
  }

  if (r.log) {
    const l = r.log;
    const children: TreeNodeModel[] = [];
    if (!l.exists) {
      children.push(
        leaf(id, 'log/missing', 'No log file', 'the proxy logs to stdout', 'info', id, {
          tooltip: `The proxy writes its log to stdout only, so there is nothing to count yet. Restart Proxy keeps its output in ${l.path}; or start it with \`… 2>&1 | tee -a ${l.path}\`, or set ${SETTINGS.logPath.key}.`,
        }),
      );
    } else {
      children.push(
        leaf(id, 'log/count', '"database is locked"', `${l.lockErrors}${l.complete ? '' : ' (tail)'}`, l.lockErrors ? 'warning' : 'check', id, {
          contextValue: l.lockErrors ? 'fix:openLog' : undefined,
        }),
      );
      const now = r.checkedAt ? Date.parse(r.checkedAt) : Date.now();
      if (l.first) children.push(leaf(id, 'log/first', 'First', ago(Date.parse(l.first), now), 'history', id, { tooltip: l.first }));
      if (l.last) children.push(leaf(id, 'log/last', 'Last', ago(Date.parse(l.last), now), 'history', id, { tooltip: l.last }));
      for (const h of l.perHour.slice(-6)) {
        const start = new Date(h.hour);
        const label = `${start.toISOString().slice(0, 10)} ${start.toISOString().slice(11, 13)}:00–${String((start.getUTCHours() + 1) % 24).padStart(2, '0')}:00 UTC`;
        children.push(leaf(id, `log/h/${h.hour}`, label, `${h.count} event${h.count === 1 ? '' : 's'}`, 'graph', id));
      }
    }
    sections.push({
      id: `${id}/log`,
      label: 'Proxy log',
      description: l.exists ? `${l.lockErrors} lock errors` : 'none',
      icon: 'output',
      children,
      dbPath: id,
    });
  }
  return sections;
}

/** A multi-root tree's root node: which folder, which file. */
export function folderLabel(entry: DbEntry): string {
  return `${entry.folderName}: ${path.basename(entry.dbPath)}`;
}
