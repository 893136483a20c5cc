// A healthy WAL-mode health report with nothing held, for tests of what the host shows:
// each test overrides only what it is about.
import type { HealthReport } from '../../src/shared/model';

export function healthyReport(path: string, over: Partial<HealthReport> = {}): HealthReport {
  return {
    path,
    checkedAt: new Date().toISOString(),
    mode: 'passive',
    reachable: true,
    journalMode: 'wal',
    journalModeSource: 'header',
    files: {
      db: { exists: true, size: 1, mtimeMs: 1 },
      wal: { exists: true, size: 1, mtimeMs: 1 },
      shm: { exists: true, size: 1, mtimeMs: 1 },
      journal: { exists: false, size: 0, mtimeMs: 0 },
    },
    lockSource: 'proc',
    locks: [],
    holders: [],
    findings: [],
    healthy: true,
    durationMs: 1,
    ...over,
  };
}
