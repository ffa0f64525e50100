// One-to-one chat: live messages (with XEP-0280 carbons, so what another device sends or receives shows
// here too), XEP-0184 receipts, and the history from the server's archive (XEP-0313) paged backwards.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { submitForm } from "./forms";
import { store, type ChatMessage } from "../store";

const MAM = "urn:xmpp:mam:2";
const CARBONS = "urn:xmpp:carbons:2";
const FORWARD = "urn:xmpp:forward:0";
const RECEIPTS = "urn:xmpp:receipts";

let openChat: string | null = null;

export function setOpenChat(peer: string | null): void {
  openChat = peer;
  if (peer) {
    store.state.unread.delete(peer);
    store.changed();
  }
}

function add(m: ChatMessage, live: boolean): void {
  const list = store.state.chats.get(m.peer) ?? [];
  // The same message may arrive live and from the archive (or as a carbon and from the archive).
  if (list.some((x) => (m.archiveId && x.archiveId === m.archiveId) || (x.id === m.id && x.outgoing === m.outgoing && x.body === m.body))) return;
  list.push(m);
  list.sort((a, b) => a.stamp - b.stamp);
  store.state.chats.set(m.peer, list);
  if (live && !m.outgoing && openChat !== m.peer) store.state.unread.set(m.peer, (store.state.unread.get(m.peer) ?? 0) + 1);
}

function stanzaId(msg: Element, by: string): string | undefined {
  return msg.getChildren("stanza-id", "urn:xmpp:sid:0").find((e) => e.attrs.by === by)?.attrs.id;
}

function fromMessage(s: Session, msg: Element, stamp: number, archiveId?: string): ChatMessage | null {
  const body = msg.getChildText("body");
  if (body === null || msg.attrs.type === "groupchat" || msg.attrs.type === "error") return null;
  const from = bareOf(msg.attrs.from ?? s.bare);
  const outgoing = from === s.bare;
  const peer = outgoing ? bareOf(msg.attrs.to ?? "") : from;
  if (!peer) return null;
  return { id: msg.attrs.id ?? archiveId ?? String(stamp), archiveId: archiveId ?? stanzaId(msg, s.bare), peer, outgoing, body, stamp };
}

function delayStamp(el: Element | undefined): number {
  const stamp = el?.getChild("delay", "urn:xmpp:delay")?.attrs.stamp;
  return stamp ? Date.parse(stamp) : Date.now();
}

export async function startChat(s: Session): Promise<void> {
  s.onStanza((el) => {
    if (el.name !== "message") return;
    if (el.getChild("result", MAM)) return; // archive pages are read by loadHistory
    const receipt = el.getChild("received", RECEIPTS);
    if (receipt?.attrs.id) markReceipt(bareOf(el.attrs.from ?? ""), receipt.attrs.id);
    // XEP-0280 §11: carbons only from our own bare JID.
    const carbon = el.getChild("received", CARBONS) ?? el.getChild("sent", CARBONS);
    if (carbon) {
      if (el.attrs.from !== s.bare) return;
      const inner = carbon.getChild("forwarded", FORWARD)?.getChild("message");
      if (inner) live(s, inner);
      return;
    }
    live(s, el);
  });
  try {
    await s.iq("set", undefined, xml("enable", { xmlns: CARBONS }));
  } catch {
    // A server without carbons: this tab sees only its own messages.
  }
}

function live(s: Session, msg: Element): void {
  const m = fromMessage(s, msg, delayStamp(msg));
  if (!m) return;
  add(m, true);
  // XEP-0184 §5.4: answer requests, never for our own messages.
  if (!m.outgoing && msg.getChild("request", RECEIPTS) && msg.attrs.id && msg.attrs.from)
    void s.send(xml("message", { to: msg.attrs.from, id: crypto.randomUUID() }, xml("received", { xmlns: RECEIPTS, id: msg.attrs.id })));
  store.changed();
}

function markReceipt(peer: string, id: string): void {
  const m = store.state.chats.get(peer)?.find((x) => x.id === id && x.outgoing);
  if (m) {
    m.receipt = true;
    store.changed();
  }
}

// A file shared in a message: its URL as the body, and XEP-0066 out-of-band data so that clients show it.
export async function sendChat(s: Session, peer: string, body: string, fileUrl?: string): Promise<void> {
  const id = crypto.randomUUID();
  await s.send(
    xml("message", { to: peer, type: "chat", id },
      xml("body", {}, body),
      fileUrl && xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, fileUrl)),
      xml("request", { xmlns: RECEIPTS }),
      xml("markable", { xmlns: "urn:xmpp:chat-markers:0" }),
      xml("origin-id", { xmlns: "urn:xmpp:sid:0", id })),
  );
  add({ id, peer, outgoing: true, body, stamp: Date.now() }, true);
  store.changed();
}

// The newest `max` archived messages with `peer` before the oldest we show (RSM `before`, XEP-0313 §4.3).
// Returns whether older ones remain.
export async function loadHistory(s: Session, peer: string, max = 50): Promise<boolean> {
  const queryid = crypto.randomUUID();
  const list = store.state.chats.get(peer) ?? [];
  const oldest = list.find((m) => m.archiveId)?.archiveId;
  const page: ChatMessage[] = [];
  const off = s.onStanza((el) => {
    const result = el.name === "message" ? el.getChild("result", MAM) : undefined;
    if (!result || result.attrs.queryid !== queryid || (el.attrs.from && el.attrs.from !== s.bare)) return;
    const fwd = result.getChild("forwarded", FORWARD);
    const inner = fwd?.getChild("message");
    if (!inner) return;
    const m = fromMessage(s, inner, delayStamp(fwd), result.attrs.id);
    if (m) page.push(m);
  });
  try {
    const res = await s.iq("set", undefined,
      xml("query", { xmlns: MAM, queryid },
        submitForm(MAM, { with: peer }),
        xml("set", { xmlns: "http://jabber.org/protocol/rsm" }, xml("max", {}, String(max)), xml("before", {}, oldest ?? ""))));
    for (const m of page) add(m, false);
    store.state.historyLoaded.add(peer);
    store.changed();
    return res.getChild("fin", MAM)?.attrs.complete !== "true";
  } finally {
    off();
  }
}
