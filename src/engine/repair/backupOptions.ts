// What a backup (or the integrity check's copy) can be asked to do, and the defaults.
import type { ProgressEvent } from '../../shared/model';

export interface BackupOptions {
  /** Destination file; default `<db folder>/backups/<name>-<UTC stamp>.db`. */
  out?: string;
  onProgress?: (e: ProgressEvent) => void;
  /** Checked between copy steps; cancelling ends the read transaction (and the proxy's pause) at once. */
  signal?: AbortSignal;
  /**
   * How long to wait for the read lock to start the copy. In rollback mode the proxy
   * holds EXCLUSIVE for the instant of each commit; a one-pass copy must not fail just
   * because one was in flight. Default 2000 ms.
   */
  busyTimeoutMs?: number;
  /** Rollback mode: the longest estimated pause of the proxy's commits accepted; default 3500 ms. */
  maxPauseMs?: number;
  /** Rollback mode: copy even when the estimated pause exceeds `maxPauseMs`. */
  force?: boolean;
  /** Default-named backups of this database to keep (the new one included); older ones are deleted after a successful backup. Default 5. */
  keep?: number;
}

/** How long a copy waits for its read lock unless told (`busyTimeoutMs`). */
export const DEFAULT_LOCK_WAIT_MS = 2000;
