// Every message between the Lock Monitor webview and the extension host, declared once
// (webviewRpc.ts), as webviewProtocol.ts declares the explorer's: each request bound to its
// result, and a check for each message. The host checks everything the webview sends; the
// webview drops anything from the host that is not one of these shapes.
import type { MonitorSnapshot } from './monitorModel';
import { intIn, object, str } from './webviewChecks';
import { WebviewProtocol, type HostMessageOf, type NoPayload, type ParamsOf, type WebviewMessageOf } from './webviewRpc';

export type { MonitorSnapshot };

/** The windows the timeline offers, in ms; the first is the shortest a request may ask for. */
export const MONITOR_WINDOWS_MS = [60_000, 5 * 60_000, 15 * 60_000] as const;
export const DEFAULT_MONITOR_WINDOW_MS = 5 * 60_000;
/** What the server keeps: an hour. */
export const MAX_MONITOR_WINDOW_MS = 60 * 60_000;
/** How often the webview asks for a fresh snapshot while it is shown. */
export const MONITOR_POLL_MS = 1000;

// ------------------------------------------------------------ webview → host

export type MonitorRequests = {
  /** The last `windowMs` of the panel's database, as the server's lock monitor sampled it. */
  snapshot: { params: { windowMs: number }; result: MonitorSnapshot };
};

export type MonitorCommands = {
  /** The webview is up; the host sends nothing before this. */
  ready: NoPayload;
};

// ------------------------------------------------------------ host → webview

export type MonitorNotifications = {
  init: {
    dbName: string;
    /** Kept in the webview's state so the serializer can reopen the panel on the same DB. */
    dbPath: string;
  };
};

export type MonitorWebviewMessage = WebviewMessageOf<MonitorRequests, MonitorCommands>;
export type MonitorHostMessage = HostMessageOf<MonitorNotifications>;

// ------------------------------------------------------------ checks

export const monitorProtocol = new WebviewProtocol<MonitorRequests, MonitorCommands, MonitorNotifications>({
  requests: {
    snapshot: object<ParamsOf<MonitorRequests, 'snapshot'>>({ windowMs: intIn(MONITOR_WINDOWS_MS[0], MAX_MONITOR_WINDOW_MS) }),
  },
  commands: {
    ready: {},
  },
  notifications: {
    init: { dbName: str(), dbPath: str() },
  },
});

/** On the host: a request or command the Lock Monitor may send. */
export const isMonitorWebviewMessage = (m: unknown): m is MonitorWebviewMessage => monitorProtocol.isWebviewMessage(m);
/** In the webview: an answer or notification from the host. */
export const isMonitorHostMessage = (m: unknown): m is MonitorHostMessage => monitorProtocol.isHostMessage(m);
