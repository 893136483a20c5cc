// The pane beside the list that shows the selected trace (detail.ts draws it). Only the
// latest trace asked for is shown: a slower answer for an earlier one is dropped.
import type { Requester } from '../../src/shared/webviewRpc';
import type { ExplorerRequests, TraceDetail } from '../../src/shared/webviewProtocol';
import { renderDetail } from './detail';
import { h } from './render';

export interface DetailHost {
  request: Requester<ExplorerRequests>;
  copy(text: string): void;
  openJson(traceId: string): void;
  /** The pane opened or closed: the page makes room for it. */
  layout(open: boolean): void;
  /** The pane was closed: the list takes the focus back. */
  closed(): void;
}

export class DetailPane {
  readonly element: HTMLElement;
  /** Bumped by each trace asked for and by closing: an older answer is not shown. */
  private generation = 0;

  constructor(
    private readonly d: Document,
    private readonly host: DetailHost,
  ) {
    this.element = h(d, 'div', 'detail');
    this.element.tabIndex = 0;
    this.element.hidden = true;
    this.element.setAttribute('role', 'region');
    this.element.setAttribute('aria-label', 'Trace details');
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  async show(id: string): Promise<void> {
    const d = this.d;
    const el = this.element;
    const gen = ++this.generation;
    el.hidden = false;
    this.host.layout(true);
    el.classList.add('stale');
    el.setAttribute('aria-busy', 'true');
    if (!el.firstChild) el.append(h(d, 'div', 'empty', 'Loading…'));
    let t: TraceDetail | null;
    try {
      t = await this.host.request('detail', { traceId: id });
    } catch (e) {
      if (gen === this.generation) this.settle(h(d, 'div', 'notice error', (e as Error).message));
      return;
    }
    if (gen !== this.generation) return;
    if (!t) {
      this.settle(h(d, 'div', 'empty', 'This trace no longer exists.'));
      return;
    }
    this.settle(
      ...renderDetail(d, t, {
        request: this.host.request,
        copy: (text) => this.host.copy(text),
        openJson: (traceId) => this.host.openJson(traceId),
        open: (traceId) => void this.show(traceId),
        close: () => this.close(),
      }),
    );
    el.dataset.traceId = t.id;
    el.scrollTop = 0;
  }

  close(): void {
    this.generation++;
    this.element.hidden = true;
    this.host.layout(false);
    this.host.closed();
  }

  private settle(...nodes: Node[]): void {
    this.element.classList.remove('stale');
    this.element.removeAttribute('aria-busy');
    this.element.replaceChildren(...nodes);
  }
}
