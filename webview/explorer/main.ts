// The webview's entry point: acquireVsCodeApi may be called once per page, so it is
// called here and handed to the explorer (app.ts), which tests drive with a fake.
import type { WebviewMessage } from '../../src/shared/webviewProtocol';
import type { VsCodeApi } from '../shared/rpc';
import { startExplorer } from './app';

declare function acquireVsCodeApi(): VsCodeApi<WebviewMessage>;

startExplorer({ doc: document, win: window, api: acquireVsCodeApi() });
