// The list's column headers: sort buttons on the sortable columns, whose state screen
// readers hear (aria-sort), and the resize handles (columns.ts).
import type { SortDir, TraceSort } from '../../src/shared/protocol';
import { COLUMNS, type ColumnSizer } from './columns';
import { h } from './render';

/** What the direction button says for each order. */
export function dirLabel(sort: TraceSort, dir: SortDir): string {
  const words: Record<TraceSort, [string, string]> = { time: ['newest', 'oldest'], latency: ['slowest', 'fastest'], tokens: ['most', 'fewest'] };
  return dir === 'desc' ? `↓ ${words[sort][0]}` : `↑ ${words[sort][1]}`;
}

export class ListHeader {
  /** The header's row group; it scrolls sideways with the rows. */
  readonly element: HTMLElement;
  private readonly cells: HTMLElement[];

  constructor(
    d: Document,
    sizer: ColumnSizer,
    /** A sort button was clicked. */
    onSort: (sort: TraceSort) => void,
  ) {
    this.cells = COLUMNS.map((c, j) => {
      const cell = h(d, 'div', `col ${c.cls}`);
      cell.setAttribute('role', 'columnheader');
      cell.setAttribute('aria-colindex', String(j + 1));
      if (c.sort) {
        const sort = c.sort;
        const b = h(d, 'button', 'sort', c.label, h(d, 'span', 'sort-arrow')) as HTMLButtonElement;
        b.title = `Sort by ${c.label.toLowerCase()}; click again to reverse`;
        b.addEventListener('click', () => onSort(sort));
        cell.append(b);
        cell.setAttribute('aria-sort', 'none');
      } else {
        cell.append(h(d, 'span', 'label', c.label));
      }
      cell.append(sizer.grip(j));
      return cell;
    });
    const row = h(d, 'div', 'list-header', ...this.cells);
    row.setAttribute('role', 'row');
    row.setAttribute('aria-rowindex', '1');
    this.element = h(d, 'div', 'header-clip', row);
    this.element.setAttribute('role', 'rowgroup');
  }

  /** Marks the column the list is sorted by, and which way. */
  showOrder(sort: TraceSort, dir: SortDir): void {
    for (const [j, c] of COLUMNS.entries()) {
      const cell = this.cells[j];
      if (!c.sort) continue;
      cell.setAttribute('aria-sort', c.sort === sort ? (dir === 'desc' ? 'descending' : 'ascending') : 'none');
      cell.classList.toggle('sorted', c.sort === sort);
      const arrow = cell.querySelector('.sort-arrow');
      if (arrow) arrow.textContent = c.sort === sort ? (dir === 'desc' ? ' ↓' : ' ↑') : '';
    }
  }
}
