// The Lock Monitor webview: a live timeline of who held which SQLite lock (chart.ts, uPlot),
// the window's figures, hold-time percentiles as a table, and the proxy's lock errors with
// who was blamed. It asks the host for a snapshot about once a second while it is shown
// (the host asks the doctor server); hidden, the page is gone (no retained context) and so
// is the polling. Process names are rendered as text only; the CSP allows no inline script.
import { DEFAULT_MONITOR_WINDOW_MS, MONITOR_POLL_MS, MONITOR_WINDOWS_MS, monitorProtocol, type MonitorWebviewMessage } from '../../src/shared/monitorProtocol';
import type { MonitorSnapshot } from '../../src/shared/monitorModel';
import { RpcClient, type VsCodeApi } from '../shared/rpc';
import { h } from '../explorer/render';
import type { TimelineChart } from './chart';
import { renderErrors } from './errorList';
import { renderFigures } from './figures';
import { span } from './format';
import { legend } from './legend';
import { readSaved, type SavedState } from './savedState';
import { renderStats } from './statsTable';
import { chartSummary, commitData, timelineOf } from './timeline';

export interface MonitorEnv {
  doc: Document;
  /** Where the host's messages arrive. */
  win: Pick<EventTarget, 'addEventListener'>;
  api: VsCodeApi<MonitorWebviewMessage>;
  /** Builds the chart in its container (uPlot in the page, a fake in tests). */
  chart: (container: HTMLElement, doc: Document) => TimelineChart;
  /** Ask again every MONITOR_POLL_MS; tests turn it off and call refresh(). */
  poll?: boolean;
}

export interface MonitorApp {
  /** Asks for a snapshot now and shows it. */
  refresh(): Promise<void>;
  /** The last snapshot shown. */
  readonly last: MonitorSnapshot | undefined;
  stop(): void;
}

export function startMonitor({ doc: d, win, api, chart: makeChart, poll = true }: MonitorEnv): MonitorApp {
  const state: SavedState = readSaved(api.getState());
  const rpc = new RpcClient(monitorProtocol, (m) => api.postMessage(m));
  let last: MonitorSnapshot | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  // ---------------------------------------------------------- layout

  const title = h(d, 'h1', undefined, 'Lock Monitor');
  const windowPick = h(d, 'select', 'window') as HTMLSelectElement;
  windowPick.setAttribute('aria-label', 'Window');
  for (const ms of MONITOR_WINDOWS_MS) {
    const o = h(d, 'option', undefined, `Last ${span(ms)}`) as HTMLOptionElement;
    o.value = String(ms);
    o.selected = ms === state.windowMs;
    windowPick.append(o);
  }
  windowPick.addEventListener('change', () => {
    state.windowMs = Number(windowPick.value) || DEFAULT_MONITOR_WINDOW_MS;
    persist();
    void refresh();
  });
  const status = h(d, 'p', 'status');
  status.setAttribute('role', 'status');
  const header = h(d, 'header', 'toolbar', title, windowPick, status);

  const chartBox = h(d, 'div', 'chart');
  chartBox.setAttribute('role', 'img');
  chartBox.setAttribute('aria-label', 'Lock timeline: waiting for the first sample.');
  const figures = h(d, 'section', 'summary');
  figures.setAttribute('aria-label', 'Figures');
  const stats = h(d, 'section', 'stats-box');
  const errors = h(d, 'section', 'errors-box');
  d.body.append(header, h(d, 'main', undefined, chartBox, legend(d), figures, errors, stats));
  const chart = makeChart(chartBox, d);
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => chart.resize(chartBox.clientWidth)).observe(chartBox);

  function persist(): void {
    api.setState(state);
  }

  // ---------------------------------------------------------- data

  function show(s: MonitorSnapshot): void {
    last = s;
    const t = timelineOf(s);
    chart.update(t, commitData(s));
    chartBox.setAttribute('aria-label', chartSummary(s, t));
    renderFigures(d, figures, s);
    renderStats(d, stats, s);
    renderErrors(d, errors, s);
  }

  async function refresh(): Promise<void> {
    try {
      show(await rpc.request('snapshot', { windowMs: state.windowMs }));
      status.textContent = '';
    } catch (e) {
      // What the host said (the server is not running, the database is not watched): shown, and asked again.
      status.textContent = (e as Error).message;
    }
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    // A page still up but out of sight asks for nothing.
    if (d.visibilityState !== 'hidden') await refresh();
    if (!stopped) timer = setTimeout(() => void loop(), MONITOR_POLL_MS);
  }

  // ---------------------------------------------------------- host notifications

  rpc.listen(win, (n) => {
    switch (n.type) {
      case 'init':
        d.title = `Lock Monitor · ${n.dbName}`;
        title.textContent = `Lock Monitor · ${n.dbName}`;
        state.panelDbPath = n.dbPath;
        persist();
        return;
    }
  });

  rpc.command('ready');
  if (poll) void loop();
  return {
    refresh,
    get last() {
      return last;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      chart.destroy();
    },
  };
}
