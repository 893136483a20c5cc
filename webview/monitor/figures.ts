// The window's figures in words: how long the proxy was kept from committing and by whom,
// how busy the write lock was, commits per second, lock errors, and the sampling rate the
// figures were measured at (what it can miss), with the server's own note.
import type { MonitorSnapshot } from '../../src/shared/monitorModel';
import { h, visible } from '../explorer/render';
import { clock, duration, hz, missable, percent, perSecond, span } from './format';

/** "sampled at 10 Hz: holds shorter than 100 ms can be missed". */
export function samplingText(sampleHz: number): string {
  return `sampled at ${hz(sampleHz)}: holds shorter than ${missable(sampleHz)} can be missed`;
}

/** The figures as [term, value] pairs, in the order they are shown. */
export function figureRows(s: MonitorSnapshot): [string, string][] {
  const m = s.summary;
  const blockers = m.blockers
    .slice(0, 3)
    .map((b) => `PID ${b.pid} ${visible(b.holder)} ${duration(b.blockedMs)}`)
    .join(', ');
  const more = m.blockers.length > 3 ? ` and ${m.blockers.length - 3} more` : '';
  return [
    ['Window', `last ${span(m.windowMs)}, ${clock(m.from)}–${clock(m.to)}, ${samplingText(m.sampleHz)}`],
    [
      'Proxy blocked',
      m.proxyBlockedMs > 0 ? `${duration(m.proxyBlockedMs)} (${percent(m.proxyBlockedMs / Math.max(1, m.windowMs))}) by ${blockers}${more}` : 'never',
    ],
    ['Write lock busy', percent(m.writeLockUtilisation)],
    ['Commits', `${perSecond(m.commitsPerSecond)} per second`],
    ['Lock errors', String(m.lockErrors)],
    ['Longest proxy write', m.proxyLongestWriteMs > 0 ? duration(m.proxyLongestWriteMs) : '–'],
    ['Journal mode', m.wal === undefined ? 'not read yet' : m.wal ? 'WAL' : 'rollback journal'],
  ];
}

export function renderFigures(doc: Document, target: HTMLElement, s: MonitorSnapshot): void {
  const list = h(doc, 'dl', 'figures', ...figureRows(s).flatMap(([term, value]) => [h(doc, 'dt', undefined, term), h(doc, 'dd', undefined, value)]));
  target.replaceChildren(list, h(doc, 'p', 'note', s.note));
}
