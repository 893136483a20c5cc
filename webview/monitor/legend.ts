// The timeline's key: a swatch per lock in its theme colour (the same custom property the
// chart reads), what the outline and the dashed line mean, and the commits line.
import type { SqliteLockName } from '../../src/shared/model';
import { h } from '../explorer/render';
import { LOCK_ORDER, lockVar } from './timeline';

/** What each lock means, in a word or two: the legend's text and its swatches' tooltips. */
export const LOCK_WORDS: Record<SqliteLockName, string> = {
  SHARED: 'reading',
  WAL_READ: 'WAL snapshot',
  RESERVED: 'write transaction',
  WAL_WRITE: 'WAL writer',
  PENDING: 'waiting to commit',
  EXCLUSIVE: 'committing',
  CHECKPOINT: 'checkpoint',
  RECOVER: 'recovery',
  WAL_OPEN: 'WAL open',
};

/** Locks the sampler reports as holds (WAL_OPEN is every WAL connection's, left out as noise). */
const SHOWN = LOCK_ORDER.filter((l) => l !== 'WAL_OPEN');

export function legend(doc: Document): HTMLElement {
  // The item's class is the colour's property name (media/monitor.css colours its swatch).
  const items = SHOWN.map((lock) => h(doc, 'li', lockVar(lock).slice(2), h(doc, 'span', 'swatch'), `${lock} `, h(doc, 'span', 'muted', LOCK_WORDS[lock])));
  const outline = h(doc, 'li', 'blocking', h(doc, 'span', 'swatch swatch-blocking'), 'outlined: blocked the proxy');
  const marker = h(doc, 'li', 'marker', h(doc, 'span', 'swatch swatch-marker'), 'dashed line: a lock error in the proxy’s log');
  const commits = h(doc, 'li', 'commits', h(doc, 'span', 'swatch swatch-commits'), 'line: commits per second (right axis)');
  const list = h(doc, 'ul', 'legend', ...items, outline, marker, commits);
  list.setAttribute('aria-label', 'Legend');
  return list;
}
