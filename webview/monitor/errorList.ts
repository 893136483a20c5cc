// The proxy's last lock errors in words, newest first, each with who held the blocking
// lock then: the chart's markers for someone who cannot see them, and the log line itself.
import type { MonitorSnapshot } from '../../src/shared/monitorModel';
import { h, visible } from '../explorer/render';
import { errorLabel } from './timeline';

/** The list shows at most this many; the chart has every marker. */
export const MAX_LISTED_ERRORS = 20;

export function renderErrors(doc: Document, target: HTMLElement, s: MonitorSnapshot): void {
  const errors = [...s.errors].sort((a, b) => b.at - a.at).slice(0, MAX_LISTED_ERRORS);
  const heading = h(doc, 'h2', undefined, 'Lock errors');
  heading.id = 'errors-heading';
  if (!errors.length) {
    target.replaceChildren(heading, h(doc, 'p', 'muted', 'No "database is locked" in the proxy\'s log in this window.'));
    return;
  }
  const list = h(
    doc,
    'ol',
    'errors',
    ...errors.map((e) => h(doc, 'li', undefined, h(doc, 'span', 'blame', errorLabel(e)), h(doc, 'span', 'raw', visible(e.text)))),
  );
  list.setAttribute('aria-labelledby', heading.id);
  const more = s.errors.length > errors.length ? h(doc, 'p', 'muted', `${s.errors.length - errors.length} older ones are on the chart.`) : undefined;
  target.replaceChildren(heading, list, ...(more ? [more] : []));
}
