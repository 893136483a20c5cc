// What every webview's messages share, in the manner of GitLens' src/webviews/ipc: a
// webview declares one map of its requests, each method bound to its params and its
// result, the commands it sends the host (no answer), the notifications the host sends it,
// and a check for each (webviewChecks.ts). A request carries an id; the host's
// ResponseMessage carries it back. webview/shared/rpc.ts is the webview's end,
// src/host/webviewHost.ts the host's; the trace explorer's map is webviewProtocol.ts.
import { count, isObject, object, oneOf, type Check, type Fields } from './webviewChecks';

/** One request: what it takes and what it answers. */
export interface Call<P = unknown, R = unknown> {
  params: P;
  result: R;
}
/** A webview's requests by method (declare it as a type alias: an interface has no index signature). */
export type RequestMap = Record<string, Call>;
/** Messages without an answer by type, each with its payload, sent flat beside `type`. */
export type MessageMap = Record<string, object>;
/** The payload of a message that says only that it happened. */
export type NoPayload = Record<never, never>;

export type ParamsOf<Req extends RequestMap, M extends keyof Req> = Req[M]['params'];
export type ResultOf<Req extends RequestMap, M extends keyof Req> = Req[M]['result'];
/** A request's params as arguments: the caller leaves them out when the method takes none. */
export type ParamsArgs<Req extends RequestMap, M extends keyof Req> =
  undefined extends ParamsOf<Req, M> ? [params?: ParamsOf<Req, M>] : [params: ParamsOf<Req, M>];
/** A message's payload as arguments: left out when every field is optional. */
export type PayloadArgs<Map extends MessageMap, M extends keyof Map> = NoPayload extends Map[M] ? [payload?: Map[M]] : [payload: Map[M]];

/** Sends a request; resolves with its result, or rejects with the host's error. */
export type Requester<Req extends RequestMap> = <M extends keyof Req & string>(method: M, ...params: ParamsArgs<Req, M>) => Promise<ResultOf<Req, M>>;

// ------------------------------------------------------------ on the wire

/** webview → host: answered by the ResponseMessage with the same id. */
export type RequestMessage<Req extends RequestMap> = { [M in keyof Req & string]: { type: M; id: number; params: ParamsOf<Req, M> } }[keyof Req & string];
/** No answer: a command (webview → host) or a notification (host → webview). */
export type PayloadMessage<Map extends MessageMap> = { [M in keyof Map & string]: { type: M } & Map[M] }[keyof Map & string];
/** host → webview: how the request with this id ended. */
export type ResponseMessage<R = unknown> =
  | { type: 'response'; id: number; ok: true; result: R }
  /** `error` is for the user: what went wrong and what to do next. */
  | { type: 'response'; id: number; ok: false; error?: string };

export type WebviewMessageOf<Req extends RequestMap, Cmd extends MessageMap> = RequestMessage<Req> | PayloadMessage<Cmd>;
export type HostMessageOf<Note extends MessageMap> = ResponseMessage | PayloadMessage<Note>;

/** The host's reading of an untrusted message from the webview. */
export type Incoming<Req extends RequestMap, Cmd extends MessageMap> =
  | { kind: 'request'; message: RequestMessage<Req> }
  | { kind: 'command'; message: PayloadMessage<Cmd> }
  /** `id` when it was a numbered request: the host answers it with `problem`. */
  | { kind: 'invalid'; problem: string; id?: number };

// ------------------------------------------------------------ a protocol

export interface ProtocolSpec<Req extends RequestMap, Cmd extends MessageMap, Note extends MessageMap> {
  /** Each request's params; the host refuses a request whose params fail, saying why. */
  requests: { [M in keyof Req]: Check<ParamsOf<Req, M>> };
  /** Each command's payload; the host drops a command that fails. */
  commands: { [M in keyof Cmd]: Fields<Cmd[M]> };
  /** Each notification's payload; the webview drops a notification that fails. */
  notifications: { [M in keyof Note]: Fields<Note[M]> };
}

const ENVELOPE: readonly string[] = ['type', 'id', 'params'];

/** One webview's messages, declared once: both ends read what crosses the boundary through it. */
export class WebviewProtocol<Req extends RequestMap, Cmd extends MessageMap, Note extends MessageMap> {
  private readonly requests: ReadonlyMap<string, Check<unknown>>;
  private readonly commands: ReadonlyMap<string, Check<unknown>>;
  private readonly notifications: ReadonlyMap<string, Check<unknown>>;

  constructor(spec: ProtocolSpec<Req, Cmd, Note>) {
    this.requests = new Map(Object.entries(spec.requests as Record<string, Check<unknown>>));
    this.commands = payloadChecks(spec.commands);
    this.notifications = payloadChecks(spec.notifications);
    const toHost = [...this.requests.keys()].find((m) => this.commands.has(m));
    // A request and a command of one name could not be told apart; 'response' is the answers' own type.
    if (toHost) throw new Error(`'${toHost}' is declared both as a request and as a command`);
    if (this.notifications.has('response')) throw new Error(`'response' cannot be a notification`);
  }

  /** On the host: a request or a command to act on, or what is wrong with the message. */
  read(raw: unknown): Incoming<Req, Cmd> {
    if (!isObject(raw) || typeof raw.type !== 'string') return { kind: 'invalid', problem: 'not a message (no type)' };
    const type = raw.type.slice(0, 64);
    const command = this.commands.get(raw.type);
    if (command) {
      const problem = command(raw, 'message');
      return problem === undefined
        ? { kind: 'command', message: raw as PayloadMessage<Cmd> }
        : { kind: 'invalid', problem: `Invalid '${type}' message: ${problem}` };
    }
    const id = count(raw.id) === undefined ? (raw.id as number) : undefined;
    const params = this.requests.get(raw.type);
    if (!params) return { kind: 'invalid', problem: `Unknown request '${type}'`, id };
    if (id === undefined) return { kind: 'invalid', problem: `Invalid '${type}' request: id must be a non-negative integer` };
    const extra = Object.keys(raw).find((k) => !ENVELOPE.includes(k));
    const problem = extra !== undefined ? `the message has an unknown field '${extra.slice(0, 64)}'` : params(raw.params, 'params');
    return problem === undefined
      ? { kind: 'request', message: raw as RequestMessage<Req> }
      : { kind: 'invalid', problem: `Invalid '${type}' request: ${problem}`, id };
  }

  /** On the host: a request or a command this webview may send. */
  isWebviewMessage(raw: unknown): raw is WebviewMessageOf<Req, Cmd> {
    return this.read(raw).kind !== 'invalid';
  }

  /** In the webview: an answer or a notification from the host; anything else is to be dropped. */
  isHostMessage(raw: unknown): raw is HostMessageOf<Note> {
    if (!isObject(raw) || typeof raw.type !== 'string') return false;
    if (raw.type === 'response')
      return count(raw.id) === undefined && typeof raw.ok === 'boolean' && (raw.error === undefined || typeof raw.error === 'string');
    const check = this.notifications.get(raw.type);
    return check !== undefined && check(raw) === undefined;
  }
}

/** Each message's check: its fields, and its own type beside them. */
function payloadChecks(spec: Record<string, Fields<object>>): ReadonlyMap<string, Check<unknown>> {
  return new Map(Object.entries(spec).map(([type, fields]) => [type, object<Record<string, unknown>>({ ...fields, type: oneOf([type]) })]));
}
