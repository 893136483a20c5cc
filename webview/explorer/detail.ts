// One trace in detail: facts, session steps, the conversation and the raw JSON. Like
// the list, every piece of trace content becomes text (render.ts).
import type { Requester } from '../../src/shared/webviewRpc';
import type { ExplorerRequests, TraceDetail, TraceField, TraceFieldName } from '../../src/shared/webviewProtocol';
import { chatBubble, conversation, formatMs, formatTime, h, jsonView, visible } from './render';

export interface DetailActions {
  request: Requester<ExplorerRequests>;
  copy(text: string): void;
  openJson(traceId: string): void;
  /** Another trace of the session (previous/next step, parent, child). */
  open(traceId: string): void;
  close(): void;
}

export function renderDetail(d: Document, t: TraceDetail, a: DetailActions): Node[] {
  let meta: Record<string, unknown> = {};
  try {
    meta = JSON.parse(t.metadata.text ?? '{}') ?? {};
  } catch {
    // shown raw below
  }
  const conv = conversation(t);
  const btn = (label: string, onClick: () => void, title?: string, cls = 'action') => {
    const b = h(d, 'button', cls, label) as HTMLButtonElement;
    if (title) b.title = title;
    b.addEventListener('click', onClick);
    return b;
  };
  const stepBtn = (label: string, id?: string | null) => (id ? btn(label, () => a.open(id), visible(id)) : null);
  const facts: [string, string][] = [
    ['Time', formatTime(t.timestamp)],
    ['Model', visible(String(meta.model ?? '–'))],
    ['Status', visible(String(meta.status ?? '–'))],
    ['Latency', formatMs(typeof meta.duration_ms === 'number' ? meta.duration_ms : null)],
    ['Tokens', visible(String(meta.tokens_used ?? '–'))],
    ['Endpoint', visible(t.endpoint)],
    ['Session', t.sessionId === null ? '–' : `${visible(t.sessionId)}${t.stepIndex === null ? '' : ` step ${t.stepIndex}`}`],
  ];
  if (meta.error) facts.push(['Error', visible(String(typeof meta.error === 'string' ? meta.error : JSON.stringify(meta.error)))]);
  const raw = (label: string, field: TraceField, name: TraceFieldName) => {
    const body = h(d, 'div', 'raw-body', jsonView(d, field.text));
    const sum = h(
      d,
      'summary',
      undefined,
      `${label}${field.truncated ? ` (first ${(field.text?.length ?? 0).toLocaleString()} of ${field.length.toLocaleString()} characters)` : ''}`,
    );
    if (field.truncated) {
      body.append(
        btn('Show all', async () => {
          body.replaceChildren(h(d, 'div', 'empty', 'Loading…'));
          try {
            const full = await a.request('field', { traceId: t.id, field: name });
            body.replaceChildren(jsonView(d, full?.text ?? null, 8 * 1024 * 1024));
          } catch (e) {
            body.replaceChildren(h(d, 'div', 'notice error', (e as Error).message));
          }
        }),
      );
    }
    return h(d, 'details', 'raw', sum, body);
  };
  const close = btn('✕', () => a.close(), 'Close the details (Esc)', 'action close');
  close.setAttribute('aria-label', 'Close the details');
  return [
    h(d, 'div', 'detail-head', h(d, 'span', 'trace-id', visible(t.id)), close),
    h(
      d,
      'div',
      'detail-actions',
      btn('Copy id', () => a.copy(t.id)),
      btn('Copy JSON', () =>
        a.copy(
          JSON.stringify(
            { id: t.id, timestamp: t.timestamp, endpoint: t.endpoint, request: t.request.text, response: t.response.text, metadata: t.metadata.text },
            null,
            2,
          ),
        ),
      ),
      btn('Open JSON', () => a.openJson(t.id), 'Open the whole trace as a read-only JSON document'),
    ),
    h(d, 'dl', 'facts', ...facts.flatMap(([k, v]) => [h(d, 'dt', undefined, k), h(d, 'dd', `fact-${k.toLowerCase()}`, v)])),
    h(
      d,
      'div',
      'steps',
      stepBtn('◀ previous step', t.prevStep),
      stepBtn('next step ▶', t.nextStep),
      stepBtn('parent', t.parentTraceId),
      ...t.children.slice(0, 10).map((c, i) => stepBtn(`child ${i + 1}`, c)),
    ),
    h(d, 'h3', undefined, 'Conversation'),
    conv.parseError ? h(d, 'div', 'notice', conv.parseError) : '',
    h(
      d,
      'div',
      'chat',
      ...conv.messages.map((m) => chatBubble(d, m)),
      conv.answer ? chatBubble(d, conv.answer) : h(d, 'div', 'empty', t.response.text === null ? 'No response (the call failed).' : ''),
    ),
    raw('Request JSON', t.request, 'request'),
    raw('Response JSON', t.response, 'response'),
    raw('Metadata JSON', t.metadata, 'metadata'),
    ...(t.stateSnapshot && t.stateSnapshot.text !== null ? [raw('State snapshot', t.stateSnapshot, 'state_snapshot')] : []),
  ].filter((n): n is HTMLElement => typeof n !== 'string');
}
