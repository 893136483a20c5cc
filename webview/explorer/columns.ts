// The list's columns and their widths: a column is resized by dragging its header's edge
// and reset by a double-click; the widths are kept in the webview state (app.ts) and
// reach the grid as CSS variables, so header and rows line up without measuring.
import type { TraceSort } from '../../src/shared/protocol';
import { h } from './render';

export interface Column {
  label: string;
  cls: string;
  width: number;
  sort?: TraceSort;
}

export const COLUMNS: readonly Column[] = [
  { label: 'Time', cls: 'col-time', width: 120, sort: 'time' },
  { label: 'Model', cls: 'col-model', width: 130 },
  { label: 'Endpoint', cls: 'col-endpoint', width: 150 },
  { label: 'Status', cls: 'col-status', width: 64 },
  { label: 'Latency', cls: 'col-latency', width: 96, sort: 'latency' },
  { label: 'Tokens', cls: 'col-tokens', width: 86, sort: 'tokens' },
  { label: 'Session', cls: 'col-session', width: 110 },
  // The last column takes the rest of the width; this is its minimum.
  { label: 'Prompt', cls: 'col-prompt', width: 220 },
];

const MIN_WIDTH = 40;

export class ColumnSizer {
  /** In column order; the saved ones where they are numbers. */
  readonly widths: number[];

  constructor(
    private readonly d: Document,
    private readonly grid: HTMLElement,
    saved: number[] | undefined,
    /** A drag ended or a width was reset: worth keeping across reloads. */
    private readonly onChange: () => void,
  ) {
    this.widths = COLUMNS.map((c, i) => (saved && Number.isFinite(saved[i]) ? Math.max(MIN_WIDTH, saved[i]) : c.width));
    this.apply();
  }

  /** The handle on column j's right edge. */
  grip(j: number): HTMLElement {
    const grip = h(this.d, 'div', 'resizer');
    grip.setAttribute('aria-hidden', 'true');
    grip.title = 'Drag to resize; double-click for the default width';
    grip.addEventListener('pointerdown', (e) => this.startResize(e, j, grip));
    grip.addEventListener('dblclick', () => {
      this.widths[j] = COLUMNS[j].width;
      this.apply();
      this.onChange();
    });
    return grip;
  }

  private startResize(e: PointerEvent, j: number, grip: HTMLElement): void {
    e.preventDefault();
    e.stopPropagation();
    const startX = e.clientX;
    const startW = this.widths[j];
    grip.setPointerCapture?.(e.pointerId);
    const move = (ev: PointerEvent) => {
      this.widths[j] = Math.max(MIN_WIDTH, Math.round(startW + ev.clientX - startX));
      this.apply();
    };
    const up = () => {
      grip.removeEventListener('pointermove', move);
      grip.removeEventListener('pointerup', up);
      grip.removeEventListener('pointercancel', up);
      this.onChange();
    };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', up);
    grip.addEventListener('pointercancel', up);
  }

  private apply(): void {
    const last = this.widths.length - 1;
    const cols = this.widths.map((w, i) => (i === last ? `minmax(${w}px, 1fr)` : `${w}px`)).join(' ');
    const total = this.widths.reduce((a, b) => a + b, 0) + 16;
    this.grid.style.setProperty('--cols', cols);
    this.grid.style.setProperty('--grid-width', `${total}px`);
  }
}
