// The trace explorer webview: a toolbar of filters and search (toolbar.ts) over a trace
// list (traceList.ts), and the detail of the selected trace (detailPane.ts). Data comes
// from the host (which asks the doctor server) through typed requests (webview/shared/rpc.ts);
// this page never sees the database. Hostile trace content is rendered as text only
// (render.ts); the CSP allows no inline script and no network.
import { explorerProtocol, type WebviewMessage } from '../../src/shared/webviewProtocol';
import { RpcClient, type VsCodeApi } from '../shared/rpc';
import { DetailPane } from './detailPane';
import { bindKeyboard } from './keyboard';
import { h } from './render';
import { readSaved, type SavedState } from './savedState';
import { Toolbar } from './toolbar';
import { TraceList } from './traceList';

export interface ExplorerEnv {
  doc: Document;
  /** Where the host's messages arrive. */
  win: Pick<EventTarget, 'addEventListener'>;
  api: VsCodeApi<WebviewMessage>;
}

export interface Explorer {
  list: TraceList;
  /** Resolves when the first list query has answered. */
  started: Promise<void>;
}

export function startExplorer({ doc: d, win, api }: ExplorerEnv): Explorer {
  const state = readSaved(api.getState());
  let hasFts = true;
  const rpc = new RpcClient(explorerProtocol, (m) => api.postMessage(m));

  // ---------------------------------------------------------- layout

  const toolbar = new Toolbar(d, {
    changed: (filter, sort) => {
      if (JSON.stringify(filter) === JSON.stringify(state.filter) && sort === state.sort) return;
      state.filter = filter;
      state.sort = sort;
      applyQuery();
    },
    reverse: () => {
      state.dir = state.dir === 'desc' ? 'asc' : 'desc';
      applyQuery();
    },
  });
  const list = new TraceList(
    d,
    {
      request: rpc.request,
      onSelect: (id) => void detail.show(id),
      onSort: (sort, dir) => {
        state.sort = sort;
        state.dir = dir;
        applyQuery();
      },
      onStateChange: persist,
    },
    state.widths,
  );
  list.selectedId = state.selectedId;
  const detail = new DetailPane(d, {
    request: rpc.request,
    copy: (text) => rpc.command('copy', { text }),
    openJson: (traceId) => rpc.command('openJson', { traceId }),
    layout: (open) => main.classList.toggle('with-detail', open),
    closed: () => list.grid.focus(),
  });
  const main = h(d, 'div', 'main', list.element, detail.element);
  d.body.append(...toolbar.elements, main);
  bindKeyboard(d, { toolbar, list, detail });

  function persist(): void {
    const s: SavedState = {
      panelDbPath: state.panelDbPath,
      filter: state.filter,
      sort: state.sort,
      dir: state.dir,
      selectedId: list.selectedId,
      widths: list.widths,
    };
    api.setState(s);
  }

  /** The user changed the query: the one place (with the pill and refresh) that re-queries. */
  function applyQuery(): void {
    toolbar.showOrder(state.sort, state.dir);
    list.setQuery({ filter: state.filter, sort: state.sort, dir: state.dir }, hasFts);
    persist();
    void list.reload();
  }

  // ---------------------------------------------------------- host notifications

  rpc.listen(win, (n) => {
    switch (n.type) {
      case 'init':
        d.title = `Traces · ${n.dbName}`;
        toolbar.setDbName(n.dbName);
        state.panelDbPath = n.dbPath;
        list.setEstimate(n.traceCount);
        persist();
        return;
      case 'didChangeData':
        list.markNewData(n.traceCount);
        return;
      case 'didChangeTraceCount':
        list.setEstimate(n.traceCount);
        return;
    }
  });

  // ---------------------------------------------------------- start

  async function loadChoices(): Promise<void> {
    try {
      const c = await rpc.request('choices');
      toolbar.setChoices(c, state.filter);
      hasFts = c.hasFts;
    } catch {
      // The list's own query says what is wrong (no traces table, not a database, …).
    }
  }

  toolbar.write(state.filter, state.sort);
  toolbar.showOrder(state.sort, state.dir);
  list.setQuery({ filter: state.filter, sort: state.sort, dir: state.dir });
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => list.render()).observe(list.viewport);
  rpc.command('ready');
  const started = loadChoices().then(async () => {
    list.setQuery({ filter: state.filter, sort: state.sort, dir: state.dir }, hasFts);
    await list.reload();
    if (list.selectedId && list.rows.some((r) => r.id === list.selectedId)) void detail.show(list.selectedId);
  });
  return { list, started };
}
