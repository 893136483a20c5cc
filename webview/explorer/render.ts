// Turning trace data into DOM. Trace content is hostile: prompts may hold HTML, scripts,
// event handlers, javascript: URLs, control and bidi characters. Nothing here ever
// assigns HTML: every piece of data becomes a text node, and invisible or reordering
// characters are shown as visible markers so text cannot disguise itself.
import type { TraceDetail, TraceRow } from '../../src/shared/protocol';

type Child = Node | string | null | undefined | false;

/** createElement with a class and children; strings become text nodes, never markup. */
export function h(doc: Document, tag: string, cls?: string, ...children: Child[]): HTMLElement {
  const el = doc.createElement(tag);
  if (cls) el.className = cls;
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? doc.createTextNode(c) : c);
  }
  return el;
}

// C0/C1 controls except tab and newline; bidi embeddings, overrides and isolates; marks.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Shows control and bidi characters as ⟨U+XXXX⟩ so they cannot reorder or hide text. */
export function visible(s: string): string {
  return s.replace(INVISIBLE, (ch) => `⟨U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return visible(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The list's time column: month, day and time; the year and zone are in the tooltip and detail. */
export function formatShortTime(iso: string): string {
  const full = formatTime(iso);
  return /^\d{4}-/.test(full) ? full.slice(5) : full;
}

export function formatMs(ms: number | null): string {
  if (ms === null || ms === undefined) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** One list row's cells, in column order. */
export function rowCells(r: TraceRow): string[] {
  return [
    formatShortTime(r.timestamp),
    visible(r.model ?? '–'),
    visible(r.endpoint),
    visible(r.status ?? '–'),
    formatMs(r.latencyMs),
    r.tokens === null ? '–' : String(r.tokens),
    r.sessionId === null ? '–' : `${visible(r.sessionId)}${r.stepIndex === null ? '' : ` #${r.stepIndex}`}`,
    visible((r.preview ?? '').replace(/\s+/g, ' ').slice(0, 120)),
  ];
}

// ------------------------------------------------------------ search highlight

const FTS_OPERATORS: ReadonlySet<string> = new Set(['AND', 'OR', 'NOT', 'NEAR']);

/** The words a search looks for, read from FTS5 syntax: phrases, `pre*`, operators dropped. */
export function searchTerms(query: string | undefined): string[] {
  if (!query) return [];
  const out = new Set<string>();
  for (const m of query.matchAll(/"([^"]*)"?|([^\s"()]+)/g)) {
    if (m[1] !== undefined) {
      const phrase = m[1].trim();
      if (phrase) out.add(phrase.toLowerCase());
      continue;
    }
    const word = (m[2] ?? '')
      .replace(/^[-+^]+/, '')
      .replace(/\*+$/, '')
      .replace(/^[\w-]+:/, '');
    if (word && !FTS_OPERATORS.has(word)) out.add(word.toLowerCase());
  }
  // Longest first, so "gpt-4o-mini" wins over "gpt" where both match.
  return [...out].sort((a, b) => b.length - a.length).slice(0, 20);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The text with each occurrence of a term wrapped in <mark>, as text nodes and
 * elements (never markup). `wordStart` matches only at the start of a word, as the
 * full-text index does.
 */
export function highlight(doc: Document, text: string, terms: string[], wordStart = true): Node[] {
  if (!terms.length || !text) return [doc.createTextNode(text)];
  const re = new RegExp(`${wordStart ? '(?<![\\p{L}\\p{N}])' : ''}(?:${terms.map(escapeRe).join('|')})`, 'giu');
  const nodes: Node[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (!m[0]) continue;
    if (m.index > last) nodes.push(doc.createTextNode(text.slice(last, m.index)));
    nodes.push(h(doc, 'mark', undefined, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) nodes.push(doc.createTextNode(text.slice(last)));
  return nodes;
}

// ------------------------------------------------------------ JSON

const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false)\b|\b(null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** Pretty JSON with syntax colours as spans of text; malformed input is shown as plain text. */
export function jsonView(doc: Document, text: string | null, maxChars = 512 * 1024): HTMLElement {
  const pre = h(doc, 'pre', 'json');
  if (text === null) {
    pre.append(doc.createTextNode('null'));
    return pre;
  }
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // truncated or not JSON: show it as it is
  }
  if (pretty.length > maxChars) pretty = pretty.slice(0, maxChars) + '\n…';
  let last = 0;
  for (const m of pretty.matchAll(TOKEN)) {
    if (m.index > last) pre.append(doc.createTextNode(visible(pretty.slice(last, m.index))));
    const cls = m[1] ? (m[2] ? 'json-key' : 'json-string') : m[3] ? 'json-bool' : m[4] ? 'json-null' : 'json-number';
    pre.append(h(doc, 'span', cls, visible(m[1] ?? m[0])));
    if (m[2]) pre.append(doc.createTextNode(m[2]));
    last = m.index + m[0].length;
  }
  if (last < pretty.length) pre.append(doc.createTextNode(visible(pretty.slice(last))));
  return pre;
}

// ------------------------------------------------------------ chat

export interface ChatMessage {
  role: string;
  content: string;
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : JSON.stringify(p))).join('\n');
  return c === undefined || c === null ? '' : JSON.stringify(c);
}

/** The conversation: the request's messages, then the response's answer. */
export function conversation(detail: TraceDetail): { messages: ChatMessage[]; answer?: ChatMessage; parseError?: string } {
  const messages: ChatMessage[] = [];
  let answer: ChatMessage | undefined;
  let parseError: string | undefined;
  try {
    const req = JSON.parse(detail.request.text ?? 'null');
    for (const m of Array.isArray(req?.messages) ? req.messages : []) messages.push({ role: String(m?.role ?? 'unknown'), content: contentText(m?.content) });
  } catch {
    parseError = detail.request.truncated
      ? 'The request is too large to show as a conversation; see the raw JSON (show all).'
      : 'The request is not valid JSON; see the raw text.';
  }
  try {
    const res = JSON.parse(detail.response.text ?? 'null');
    const msg = res?.choices?.[0]?.message ?? (Array.isArray(res?.content) ? { role: 'assistant', content: res.content } : undefined);
    if (msg) answer = { role: String(msg.role ?? 'assistant'), content: contentText(msg.content) };
  } catch {
    // shown raw below
  }
  return { messages, answer, parseError };
}

export function chatBubble(doc: Document, m: ChatMessage, maxChars = 20000): HTMLElement {
  const role = ['system', 'user', 'assistant', 'tool'].includes(m.role) ? m.role : 'other';
  const text = m.content.length > maxChars ? m.content.slice(0, maxChars) + ` … (${m.content.length - maxChars} more characters)` : m.content;
  return h(doc, 'div', `bubble bubble-${role}`, h(doc, 'div', 'bubble-role', visible(m.role)), h(doc, 'div', 'bubble-text', visible(text)));
}
