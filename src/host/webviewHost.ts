// The host's end of a webview protocol (src/shared/webviewRpc.ts), for any panel: every
// message from the webview is checked, then a request goes to its handler and its result
// or error goes back with the request's id, and a command goes to its handler. Plain
// TypeScript with no vscode import: the panel hands it the webview's messages and a way
// to post, so tests drive it without VS Code.
import type { HostMessageOf, MessageMap, ParamsOf, PayloadArgs, RequestMap, ResultOf, WebviewProtocol } from '../shared/webviewRpc';

/** One handler per request, returning that request's result. */
export type RequestHandlers<Req extends RequestMap> = { [M in keyof Req]: (params: ParamsOf<Req, M>) => Promise<ResultOf<Req, M>> };
/** One handler per command. */
export type CommandHandlers<Cmd extends MessageMap> = { [M in keyof Cmd]: (payload: Cmd[M]) => void | Promise<void> };

export interface WebviewHostOptions<Req extends RequestMap, Cmd extends MessageMap, Note extends MessageMap> {
  /** Names the webview in the log. */
  name: string;
  protocol: WebviewProtocol<Req, Cmd, Note>;
  requests: RequestHandlers<Req>;
  commands: CommandHandlers<Cmd>;
  /** Posts to the webview; the panel decides whether it can yet. */
  post(m: HostMessageOf<Note>): void;
  warn(message: string): void;
}

export class WebviewHost<Req extends RequestMap, Cmd extends MessageMap, Note extends MessageMap> {
  constructor(private readonly o: WebviewHostOptions<Req, Cmd, Note>) {}

  /**
   * Acts on one message from the webview. A malformed request that can be answered (it
   * has an id) is refused with the reason; anything else malformed is dropped and logged.
   * A command's failure rejects, as the panel's own handler would.
   */
  async receive(raw: unknown): Promise<void> {
    const m = this.o.protocol.read(raw);
    switch (m.kind) {
      case 'command':
        return this.run(m.message.type, m.message);
      case 'request':
        return this.answer(m.message.id, m.message.type, m.message.params);
      case 'invalid':
        this.o.warn(
          `${this.o.name}: ${m.id === undefined ? 'dropped' : 'refused'} a message from the webview (${m.problem}): ${JSON.stringify(raw)?.slice(0, 200)}`,
        );
        if (m.id !== undefined) this.o.post({ type: 'response', id: m.id, ok: false, error: m.problem });
        return;
    }
  }

  /** Posts a notification to the webview. */
  notify<M extends keyof Note & string>(type: M, ...payload: PayloadArgs<Note, M>): void {
    this.o.post({ ...payload[0], type } as HostMessageOf<Note>);
  }

  private async run<M extends keyof Cmd & string>(type: M, payload: Cmd[M]): Promise<void> {
    await this.o.commands[type](payload);
  }

  private async answer<M extends keyof Req & string>(id: number, method: M, params: ParamsOf<Req, M>): Promise<void> {
    try {
      const result = await this.o.requests[method](params);
      this.o.post({ type: 'response', id, ok: true, result });
    } catch (e) {
      this.o.post({ type: 'response', id, ok: false, error: (e as Error).message });
    }
  }
}
