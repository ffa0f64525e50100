// One XMPP connection of the signed-in user, over WebSocket to the page's own origin (the endpoint found
// through XEP-0156 host-meta, as any client would). Wraps xmpp.js: connecting with SCRAM-SHA-256, answering
// disco#info with our features (so that PEP sends microblog notifications, XEP-0115 + XEP-0163 §4), and
// dispatching incoming stanzas to the feature modules that subscribed.
import { client, xml, jid as parseJid, type Client, type Element, type FastToken } from "@xmpp/client";
import { ScramSha1, ScramSha256 } from "./scram";
import { capsVer, CAPS_NODE, FEATURES, IDENTITY } from "./caps";

export type StanzaListener = (el: Element) => void;

// XEP-0484 FAST: after a password sign-in the server gives this browser a token (bound to our XEP-0388
// user-agent id and to HT-SHA-256-NONE); it is all we keep (never the password), and the next visit signs
// in with it. A refused token is dropped (xmpp.js calls deleteToken) and the password form comes back.
const FAST_KEY = "causerie.fast";
export type StoredToken = FastToken & { jid: string };

export function storedToken(): StoredToken | null {
  try {
    const t = JSON.parse(localStorage.getItem(FAST_KEY) ?? "null") as StoredToken | null;
    return t && t.jid && t.token && t.mechanism ? t : null;
  } catch {
    return null;
  }
}

export function forgetToken(): void {
  localStorage.removeItem(FAST_KEY);
}

export type Secret = { password: string } | { token: StoredToken };

export class Session {
  readonly bare: string;
  private listeners = new Set<StanzaListener>();
  private closedListeners = new Set<(why: string) => void>();
  private ver = "";

  private constructor(private readonly xmpp: Client, bare: string) {
    this.bare = bare;
  }

  get fullJid(): string {
    return this.xmpp.jid?.toString() ?? this.bare;
  }

  static async open(address: string, secret: Secret): Promise<Session> {
    const at = address.indexOf("@");
    if (at <= 0 || at === address.length - 1 || address.includes("/")) throw new Error("bad-jid");
    const username = address.slice(0, at);
    const domain = address.slice(at + 1).toLowerCase();
    const service = await websocketEndpoint();
    const x = client({
      service,
      domain,
      resource: "web-" + Math.random().toString(36).slice(2, 8),
      credentials: async (authenticate, mechanisms, fast) => {
        if ("token" in secret) {
          // Token only: xmpp.js tries FAST first, and if the server refuses the token it falls back to the
          // mechanism given here, which we do not have (no password): the sign-in fails as "token-refused".
          if (!fast) throw new Error("token-refused");
          await authenticate({ username, token: secret.token }, "", userAgent());
          return;
        }
        // SCRAM first: the password is never sent, even where the transport is not TLS (localhost). Where
        // the server offers FAST, xmpp.js asks for a token along (<request-token/>).
        const mech = ["SCRAM-SHA-256", "SCRAM-SHA-1"].find((m) => mechanisms.includes(m)) ?? mechanisms[0];
        await authenticate({ username, password: secret.password }, mech, userAgent());
      },
    });
    const bare = `${username.toLowerCase()}@${domain}`;
    x.fast.saveToken = async (t) => localStorage.setItem(FAST_KEY, JSON.stringify({ jid: bare, mechanism: t.mechanism, token: t.token, expiry: t.expiry }));
    x.fast.fetchToken = async () => storedToken();
    x.fast.deleteToken = async () => forgetToken();
    x.saslFactory.use("SCRAM-SHA-256", ScramSha256);
    x.saslFactory.use("SCRAM-SHA-1", ScramSha1);
    const session = new Session(x, bare);
    x.on("stanza", (el) => session.dispatch(el));
    // The server ended the session (signed out everywhere, account removed, replaced): no reconnection.
    x.on("error", (e) => {
      if ((e as { name?: string })?.name === "StreamError" && x.status === "online") {
        x.reconnect.stop();
        session.closedListeners.forEach((f) => f("stream-error"));
      }
    });
    x.iqCallee.get("http://jabber.org/protocol/disco#info", "query", ({ stanza }) => session.discoInfo(stanza));
    x.iqCallee.get("jabber:iq:version", "query", () =>
      xml("query", { xmlns: "jabber:iq:version" }, xml("name", {}, "Causerie web"), xml("version", {}, "1")),
    );
    try {
      await x.start();
    } catch (e) {
      x.reconnect.stop();
      await x.stop().catch(() => {});
      console.error("sign-in failed:", e);
      const msg = String((e as Error)?.message ?? e);
      if ("token" in secret) throw new Error(/unreachable|ECONN|WebSocket/i.test(msg) ? "unreachable" : "token-refused");
      throw new Error(/not-authorized|SASL|credentials/i.test(msg) ? "not-authorized" : "unreachable");
    }
    // Reconnection would resume the stream (XEP-0198) without us noticing; a lost session shows as signed out.
    x.on("offline", () => session.closedListeners.forEach((f) => f("offline")));
    session.ver = await capsVer();
    return session;
  }

  onStanza(f: StanzaListener): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  onClosed(f: (why: string) => void): void {
    this.closedListeners.add(f);
  }

  // Answers iq sets of one payload; the handler's truthy return is the result (an element is its payload).
  onIqSet(ns: string, name: string, f: (iq: Element) => Element | boolean): void {
    this.xmpp.iqCallee.set(ns, name, ({ stanza }) => f(stanza) as Element | object);
  }

  send(el: Element): Promise<void> {
    return this.xmpp.send(el);
  }

  iq(type: "get" | "set", to: string | undefined, payload: Element): Promise<Element> {
    return this.xmpp.iqCaller.request(xml("iq", { type, to }, payload), 30000);
  }

  // Available presence with our capabilities, so that PEP notifications reach this tab.
  sendPresence(): Promise<void> {
    return this.send(
      xml("presence", {}, xml("c", { xmlns: "http://jabber.org/protocol/caps", hash: "sha-1", node: CAPS_NODE, ver: this.ver })),
    );
  }

  async close(): Promise<void> {
    this.xmpp.reconnect.stop();
    await this.xmpp.stop().catch(() => {});
  }

  private dispatch(el: Element): void {
    for (const f of this.listeners) {
      try {
        f(el);
      } catch (e) {
        console.error(e);
      }
    }
  }

  private discoInfo(stanza: Element): Element {
    const node = stanza.getChild("query")?.attrs.node;
    return xml(
      "query",
      { xmlns: "http://jabber.org/protocol/disco#info", node },
      xml("identity", IDENTITY),
      ...FEATURES.map((v) => xml("feature", { var: v })),
    );
  }
}

// XEP-0388 §4: who is logging in, the same id every time from this browser (so that the server's
// Bind 2 gives it the same resource, and FAST tokens are tied to it).
function userAgent(): Element {
  let id = localStorage.getItem("causerie.ua");
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem("causerie.ua", id);
  }
  return xml("user-agent", { id }, xml("software", {}, "Causerie web"), xml("device", {}, navigator.platform || "browser"));
}

export function bareOf(j: string): string {
  try {
    return parseJid(j).bare().toString();
  } catch {
    return j.split("/")[0];
  }
}

// XEP-0156: the WebSocket endpoint this origin advertises; the default path when host-meta is absent.
async function websocketEndpoint(): Promise<string> {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  try {
    const res = await fetch("/.well-known/host-meta.json", { headers: { Accept: "application/json" } });
    if (res.ok) {
      const doc = (await res.json()) as { links?: Array<{ rel?: string; href?: string }> };
      const link = doc.links?.find((l) => l.rel === "urn:xmpp:alt-connections:websocket" && l.href);
      if (link?.href) {
        // Same origin only (the CSP allows nothing else): keep the path, use this page's host.
        const u = new URL(link.href, location.href);
        return `${scheme}//${location.host}${u.pathname}`;
      }
    }
  } catch {
    // No host-meta: fall through to the default path.
  }
  return `${scheme}//${location.host}/xmpp-websocket`;
}
