// The Lock Monitor's request: a watched database's lock history (holds, lock errors with
// who was blamed, commits per second) and its figures, as the watcher's lock monitor has
// sampled them. It only reads what the monitor keeps: no /proc, no file, no SQLite.
import type { Connection } from 'vscode-languageserver/node';
import { DoctorError } from '../../engine';
import * as proto from '../../shared/protocol';
import type { Handler } from '../handle';
import type { Watchers } from '../watchers';

/** The monitor keeps an hour; a window shorter than a second says nothing. */
const MIN_WINDOW_MS = 1000;
const MAX_WINDOW_MS = 60 * 60_000;

export function registerMonitorHandlers(connection: Connection, handler: Handler, watchers: Watchers): void {
  connection.onRequest(proto.monitor, (params) =>
    handler.run(
      `monitor ${params.dbPath}`,
      async () => {
        const watcher = watchers.get(params.dbPath);
        if (!watcher)
          throw new DoctorError(
            `${params.dbPath} is not a database the doctor watches, so nobody samples its locks. Open the Lock Monitor on the workspace's trace database.`,
          );
        const windowMs = Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, Number.isFinite(params.windowMs) ? params.windowMs : MAX_WINDOW_MS));
        return watcher.monitor.snapshot(windowMs);
      },
      // The Lock Monitor asks every second: a log line each time would bury everything else.
      { quiet: true },
    ),
  );
}
