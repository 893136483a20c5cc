// Hold-time percentiles per process and lock, as a real table (a caption, column headers,
// one row per process and lock), so a screen reader can walk what the chart shows.
import type { MonitorSnapshot } from '../../src/shared/monitorModel';
import { h, visible } from '../explorer/render';
import { duration, span } from './format';
import { samplingText } from './figures';

export const STATS_COLUMNS = ['Process', 'PID', 'Lock', 'p50', 'p95', 'p99', 'Max', 'Holds', 'Total'] as const;

/** One row's cells, in STATS_COLUMNS order. */
export function statsRows(s: MonitorSnapshot): string[][] {
  return s.summary.stats.map((r) => [
    visible(r.holder),
    String(r.pid),
    r.lock,
    duration(r.p50Ms),
    duration(r.p95Ms),
    duration(r.p99Ms),
    duration(r.maxMs),
    String(r.count),
    duration(r.totalMs),
  ]);
}

export function renderStats(doc: Document, target: HTMLElement, s: MonitorSnapshot): void {
  const caption = h(doc, 'caption', undefined, `Hold times by process and lock, last ${span(s.summary.windowMs)} (${samplingText(s.summary.sampleHz)})`);
  const headRow = h(doc, 'tr', undefined, ...STATS_COLUMNS.map((c) => th(doc, c)));
  const rows = statsRows(s);
  const blockers = new Set(s.summary.blockers.map((b) => b.pid));
  const body = rows.length
    ? rows.map((cells, i) => {
        const tr = h(
          doc,
          'tr',
          blockers.has(s.summary.stats[i].pid) ? 'blocker' : undefined,
          ...cells.map((c, j) => h(doc, j === 0 ? 'th' : 'td', undefined, c)),
        );
        tr.firstElementChild?.setAttribute('scope', 'row');
        return tr;
      })
    : [emptyRow(doc)];
  target.replaceChildren(h(doc, 'table', 'stats', caption, h(doc, 'thead', undefined, headRow), h(doc, 'tbody', undefined, ...body)));
}

function th(doc: Document, text: string): HTMLElement {
  const cell = h(doc, 'th', undefined, text);
  cell.setAttribute('scope', 'col');
  return cell;
}

function emptyRow(doc: Document): HTMLElement {
  const td = h(doc, 'td', 'empty muted', 'No process held a lock in this window.');
  td.setAttribute('colspan', String(STATS_COLUMNS.length));
  return h(doc, 'tr', undefined, td);
}
