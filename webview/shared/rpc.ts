// A webview's end of its protocol (src/shared/webviewRpc.ts), for any webview: typed
// requests over acquireVsCodeApi().postMessage, each settled by the host's response with
// the same id, commands that need no answer, and the host's notifications, checked
// before anything reads them.
import type {
  HostMessageOf,
  MessageMap,
  PayloadArgs,
  PayloadMessage,
  RequestMap,
  Requester,
  ResponseMessage,
  WebviewMessageOf,
  WebviewProtocol,
} from '../../src/shared/webviewRpc';

/** What acquireVsCodeApi() returns, as far as a webview uses it; tests pass a fake. */
export interface VsCodeApi<Out = unknown> {
  postMessage(m: Out): void;
  getState(): unknown;
  setState(s: unknown): void;
}

interface Pending {
  resolve(result: unknown): void;
  reject(e: Error): void;
}

export class RpcClient<Req extends RequestMap, Cmd extends MessageMap, Note extends MessageMap> {
  private nextId = 1;
  /** Requests sent and not answered yet, by id. */
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly protocol: WebviewProtocol<Req, Cmd, Note>,
    private readonly post: (m: WebviewMessageOf<Req, Cmd>) => void,
  ) {}

  /** Resolves with the method's result, or rejects with the host's error; a bound function, to hand to the views. */
  readonly request: Requester<Req> = (method, ...params) => {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: method, id, params: params[0] });
    });
  };

  /** Sends a command: no answer. */
  command<M extends keyof Cmd & string>(type: M, ...payload: PayloadArgs<Cmd, M>): void {
    this.post({ ...payload[0], type } as WebviewMessageOf<Req, Cmd>);
  }

  /** A message from the host: settles the request it answers and returns undefined, or returns a notification; anything malformed is dropped. */
  receive(raw: unknown): PayloadMessage<Note> | undefined {
    if (!this.protocol.isHostMessage(raw)) return undefined;
    const m: HostMessageOf<Note> = raw;
    if (m.type !== 'response') return m as PayloadMessage<Note>;
    const r = m as ResponseMessage;
    const p = this.pending.get(r.id);
    this.pending.delete(r.id);
    if (r.ok) p?.resolve(r.result);
    else p?.reject(new Error(r.error ?? 'request failed'));
    return undefined;
  }

  /** Reads the host's messages arriving at `win`, handing each notification to `onNotification`. */
  listen(win: Pick<EventTarget, 'addEventListener'>, onNotification: (n: PayloadMessage<Note>) => void): void {
    win.addEventListener('message', (e: Event) => {
      const n = this.receive((e as MessageEvent).data);
      if (n) onNotification(n);
    });
  }
}
