// The webview's entry point: acquireVsCodeApi may be called once per page, so it is
// called here and handed to the monitor (app.ts), which tests drive with a fake, as
// they drive it with a fake chart instead of uPlot.
import type { MonitorWebviewMessage } from '../../src/shared/monitorProtocol';
import type { VsCodeApi } from '../shared/rpc';
import { startMonitor } from './app';
import { createTimeline } from './chart';

declare function acquireVsCodeApi(): VsCodeApi<MonitorWebviewMessage>;

startMonitor({ doc: document, win: window, api: acquireVsCodeApi(), chart: createTimeline });
