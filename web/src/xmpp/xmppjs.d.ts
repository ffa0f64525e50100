// The parts of xmpp.js (@xmpp/client, which ships no types) that the app uses.
declare module "@xmpp/client" {
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<Element | string>;
    parent: Element | null;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getChildElements(): Element[];
    getNS(): string | undefined;
    text(): string;
    is(name: string, xmlns?: string): boolean;
    append(...children: Array<Element | string>): Element;
    toString(): string;
  }
  export interface Jid {
    local: string;
    domain: string;
    resource: string;
    bare(): Jid;
    toString(): string;
  }
  export interface Client {
    jid: Jid | null;
    status: string;
    saslFactory: { use(name: string | object, mech?: object): void };
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: { stanza: Element }) => Element | object | Promise<Element | object>): void;
      set(ns: string, name: string, handler: (ctx: { stanza: Element }) => Element | object | Promise<Element | object>): void;
    };
    reconnect: { stop(): void };
    // XEP-0484 FAST (client-core/src/fast): where the token is kept is the application's choice.
    fast: {
      saveToken(t: FastToken): Promise<void>;
      fetchToken(): Promise<FastToken | null | undefined>;
      deleteToken(): Promise<void>;
    };
    on(event: "stanza", cb: (el: Element) => void): void;
    on(event: "online", cb: (jid: Jid) => void): void;
    on(event: "offline" | "disconnect", cb: () => void): void;
    on(event: "error", cb: (err: Error) => void): void;
    on(event: "status", cb: (status: string) => void): void;
    start(): Promise<Jid>;
    stop(): Promise<void>;
    send(el: Element): Promise<void>;
  }
  export interface FastToken {
    mechanism: string;
    token: string;
    expiry: string;
  }
  export interface ClientOptions {
    service: string;
    domain: string;
    resource?: string;
    credentials?: (
      authenticate: (creds: object, mechanism: string, userAgent?: Element) => Promise<void>,
      mechanisms: string[],
      fast: object | null, // the FAST module when the server offers a mechanism we have, else null
    ) => Promise<void>;
  }
  export function client(options: ClientOptions): Client;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Array<Element | string | null | undefined | false>): Element;
  export function jid(s: string): Jid;
}
