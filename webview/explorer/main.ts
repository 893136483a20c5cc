// The webview's entry point: acquireVsCodeApi may be called once per page, so it is
// called here and handed to the explorer (app.ts), which tests drive with a fake.
import { startExplorer, type VsCodeApi } from './app';

declare function acquireVsCodeApi(): VsCodeApi;

startExplorer({ doc: document, win: window, api: acquireVsCodeApi() });
