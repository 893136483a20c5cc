// What the Lock Monitor keeps across reloads in the webview state (vscode.setState), read
// back defensively: the state may come from an older version of the page.
import { DEFAULT_MONITOR_WINDOW_MS, MONITOR_WINDOWS_MS } from '../../src/shared/monitorProtocol';

export interface SavedState {
  /** Read by the host's serializer to reopen this panel on its DB after a reload. */
  panelDbPath?: string;
  windowMs: number;
}

export function readSaved(raw: unknown): SavedState {
  const s = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<SavedState>;
  return {
    panelDbPath: typeof s.panelDbPath === 'string' ? s.panelDbPath : undefined,
    windowMs: (MONITOR_WINDOWS_MS as readonly number[]).includes(s.windowMs as number) ? (s.windowMs as number) : DEFAULT_MONITOR_WINDOW_MS,
  };
}
