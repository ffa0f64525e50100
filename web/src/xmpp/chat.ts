// One-to-one chat: live messages (with XEP-0280 carbons, so what another device sends or receives shows
// here too), XEP-0184 receipts, and the history from the server's archive (XEP-0313) paged backwards.
// Around the messages: typing (XEP-0085 chat states), corrections of our last message (XEP-0308),
// replies (XEP-0461, with a XEP-0428 fallback quote for clients without them), reactions (XEP-0444)
// and displayed markers (XEP-0333), read from the archive as well as live. Messages are referred to by
// their `id` attribute (our ids are also our origin-ids), as these XEPs say for type "chat".
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { submitForm } from "./forms";
import { fileSharing, sharedPicture } from "./media";
import { store, type ChatMessage, type Picture } from "../store";

const MAM = "urn:xmpp:mam:2";
const CARBONS = "urn:xmpp:carbons:2";
const FORWARD = "urn:xmpp:forward:0";
const RECEIPTS = "urn:xmpp:receipts";
const STATES = "http://jabber.org/protocol/chatstates";
const CORRECT = "urn:xmpp:message-correct:0";
const REPLY = "urn:xmpp:reply:0";
const FALLBACK = "urn:xmpp:fallback:0";
const REACTIONS = "urn:xmpp:reactions:0";
const MARKERS = "urn:xmpp:chat-markers:0";

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

// XEP-0428: the body without the part a fallback element marks for `forNs` (code point offsets).
function withoutFallback(msg: Element, body: string, forNs: string): string {
  const fb = msg.getChildren("fallback", FALLBACK).find((f) => f.attrs.for === forNs)?.getChild("body");
  if (!fb) return body;
  const cps = Array.from(body);
  const start = Number(fb.attrs.start ?? 0);
  const end = Number(fb.attrs.end ?? cps.length);
  if (!(start >= 0 && end >= start && end <= cps.length)) return body;
  return (cps.slice(0, start).join("") + cps.slice(end).join("")).trim();
}

interface Parsed {
  peer: string;
  outgoing: boolean;
}

function parties(s: Session, msg: Element): Parsed | null {
  const from = bareOf(msg.attrs.from ?? s.bare);
  const outgoing = from === s.bare;
  const peer = outgoing ? bareOf(msg.attrs.to ?? "") : from;
  return peer ? { peer, outgoing } : null;
}

function fromMessage(s: Session, msg: Element, stamp: number, archiveId?: string): ChatMessage | null {
  const raw = msg.getChildText("body");
  if (raw === null || msg.attrs.type === "groupchat" || msg.attrs.type === "error") return null;
  // A form (a pubsub subscription request, say) is not a chat message; its module handles it.
  if (msg.getChild("x", "jabber:x:data")) return null;
  const p = parties(s, msg);
  if (!p) return null;
  const reply = msg.getChild("reply", REPLY);
  const body = reply ? withoutFallback(msg, raw, REPLY) : raw;
  return {
    id: msg.attrs.id ?? archiveId ?? String(stamp), archiveId: archiveId ?? stanzaId(msg, s.bare), peer: p.peer, outgoing: p.outgoing,
    body, stamp, markable: !!msg.getChild("markable", MARKERS), replyTo: reply?.attrs.id, picture: sharedPicture(msg),
  };
}

function delayStamp(el: Element | undefined): number {
  const stamp = el?.getChild("delay", "urn:xmpp:delay")?.attrs.stamp;
  return stamp ? Date.parse(stamp) : Date.now();
}

// What a message does to earlier ones (a correction, reactions, a displayed marker); true when it was
// only that and is not shown itself.
function applyToEarlier(s: Session, msg: Element): boolean {
  if (msg.attrs.type === "groupchat" || msg.attrs.type === "error") return false;
  const p = parties(s, msg);
  if (!p) return false;
  const list = store.state.chats.get(p.peer) ?? [];
  const replace = msg.getChild("replace", CORRECT);
  const body = msg.getChildText("body");
  if (replace?.attrs.id && body !== null) {
    // XEP-0308 §5: only the original sender may correct; the id is the original message's.
    const orig = list.find((m) => m.id === replace.attrs.id && m.outgoing === p.outgoing);
    if (orig) {
      orig.body = body;
      orig.corrected = true;
    }
    return true;
  }
  const reactions = msg.getChild("reactions", REACTIONS);
  if (reactions?.attrs.id) {
    const target = list.find((m) => m.id === reactions.attrs.id);
    if (target) {
      // XEP-0444 §3.2: each update carries the sender's whole set.
      const who = p.outgoing ? s.bare : p.peer;
      const set = reactions.getChildren("reaction").map((r) => r.text().trim()).filter(Boolean);
      target.reactions = { ...(target.reactions ?? {}), [who]: [...new Set(set)] };
    }
    return body === null;
  }
  const displayed = msg.getChild("displayed", MARKERS);
  if (displayed?.attrs.id && !p.outgoing) {
    // XEP-0333 §3: a marker covers the message and every earlier one from us.
    const i = list.findIndex((m) => m.id === displayed.attrs.id && m.outgoing);
    for (let j = 0; j <= i; j++) if (list[j].outgoing) list[j].displayed = true;
    return body === null;
  }
  return false;
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
  const p = parties(s, msg);
  // XEP-0085: the peer's chat state; any message of theirs with a body ends "composing".
  const state = msg.getChildElements().find((c) => c.getNS() === STATES)?.name;
  if (p && !p.outgoing && msg.attrs.type !== "groupchat") {
    if (state === "composing") store.state.typing.add(p.peer);
    else if (state || msg.getChild("body")) store.state.typing.delete(p.peer);
  }
  if (applyToEarlier(s, msg)) {
    store.changed();
    return;
  }
  const m = fromMessage(s, msg, delayStamp(msg));
  if (!m) {
    if (state) store.changed();
    return;
  }
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

// A file shared in a message: its URL as the body, and XEP-0066 out-of-band data so that clients show it;
// a picture also by XEP-0447, with its thumbnail and BlurHash. `replyTo`: the message answered (XEP-0461),
// quoted in a fallback for clients without replies.
export async function sendChat(s: Session, peer: string, body: string, fileUrl?: string, replyTo?: ChatMessage,
  picture?: Picture): Promise<void> {
  const id = crypto.randomUUID();
  let text = body;
  let fallback: Element | undefined;
  if (replyTo) {
    const quote = replyTo.body.split("\n").map((l) => "> " + l).join("\n") + "\n";
    text = quote + body;
    fallback = xml("fallback", { xmlns: FALLBACK, for: REPLY }, xml("body", { start: "0", end: String(Array.from(quote).length) }));
  }
  await s.send(
    xml("message", { to: peer, type: "chat", id },
      xml("body", {}, text),
      fileUrl && xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, fileUrl)),
      picture && fileSharing(picture),
      replyTo && xml("reply", { xmlns: REPLY, to: replyTo.outgoing ? s.bare : peer, id: replyTo.id }),
      fallback,
      xml("active", { xmlns: STATES }),
      xml("request", { xmlns: RECEIPTS }),
      xml("markable", { xmlns: MARKERS }),
      xml("origin-id", { xmlns: "urn:xmpp:sid:0", id })),
  );
  sentState.set(peer, "active");
  add({ id, peer, outgoing: true, body, stamp: Date.now(), replyTo: replyTo?.id, picture }, true);
  store.changed();
}

// XEP-0308: our last message, corrected. The replace id is the original's, however often corrected.
export async function correctLast(s: Session, peer: string, body: string): Promise<void> {
  const last = lastOutgoing(peer);
  if (!last) return;
  await s.send(
    xml("message", { to: peer, type: "chat", id: crypto.randomUUID() },
      xml("body", {}, body),
      xml("replace", { xmlns: CORRECT, id: last.id }),
      xml("active", { xmlns: STATES }),
      xml("request", { xmlns: RECEIPTS })));
  last.body = body;
  last.corrected = true;
  store.changed();
}

export function lastOutgoing(peer: string): ChatMessage | undefined {
  const list = store.state.chats.get(peer) ?? [];
  const last = list[list.length - 1];
  return last?.outgoing ? last : undefined;
}

// XEP-0444: toggles one of our reactions on a message; the whole set of ours goes out.
export async function react(s: Session, peer: string, m: ChatMessage, emoji: string): Promise<void> {
  const mine = new Set(m.reactions?.[s.bare] ?? []);
  if (mine.has(emoji)) mine.delete(emoji);
  else mine.add(emoji);
  await s.send(
    xml("message", { to: peer, type: "chat", id: crypto.randomUUID() },
      xml("reactions", { xmlns: REACTIONS, id: m.id }, ...[...mine].map((e) => xml("reaction", {}, e))),
      xml("store", { xmlns: "urn:xmpp:hints" })));
  m.reactions = { ...(m.reactions ?? {}), [s.bare]: [...mine] };
  store.changed();
}

// XEP-0085: what we last told each peer, so that typing sends "composing" once, not per key.
const sentState = new Map<string, string>();

export function setTyping(s: Session, peer: string, typing: boolean): void {
  const state = typing ? "composing" : "active";
  if ((sentState.get(peer) ?? "active") === state) return;
  sentState.set(peer, state);
  void s.send(xml("message", { to: peer, type: "chat", id: crypto.randomUUID() },
    xml(state, { xmlns: STATES }), xml("no-store", { xmlns: "urn:xmpp:hints" })));
}

// XEP-0333: the newest markable message of the peer is shown on screen; tell them, once per message.
const displayedSent = new Map<string, string>();

export function markDisplayed(s: Session, peer: string): void {
  const list = store.state.chats.get(peer) ?? [];
  const last = [...list].reverse().find((m) => !m.outgoing);
  if (!last?.markable || displayedSent.get(peer) === last.id) return;
  displayedSent.set(peer, last.id);
  void s.send(xml("message", { to: peer, type: "chat", id: crypto.randomUUID() },
    xml("displayed", { xmlns: MARKERS, id: last.id }), xml("store", { xmlns: "urn:xmpp:hints" })));
}

// The newest `max` archived messages with `peer` before the oldest we show (RSM `before`, XEP-0313 §4.3).
// Returns whether older ones remain.
export async function loadHistory(s: Session, peer: string, max = 50): Promise<boolean> {
  const queryid = crypto.randomUUID();
  const list = store.state.chats.get(peer) ?? [];
  const oldest = list.find((m) => m.archiveId)?.archiveId;
  const page: Array<{ msg: Element; stamp: number; id?: string }> = [];
  const off = s.onStanza((el) => {
    const result = el.name === "message" ? el.getChild("result", MAM) : undefined;
    if (!result || result.attrs.queryid !== queryid || (el.attrs.from && el.attrs.from !== s.bare)) return;
    const fwd = result.getChild("forwarded", FORWARD);
    const inner = fwd?.getChild("message");
    if (inner) page.push({ msg: inner, stamp: delayStamp(fwd), id: result.attrs.id });
  });
  try {
    const res = await s.iq("set", undefined,
      xml("query", { xmlns: MAM, queryid },
        submitForm(MAM, { with: peer }),
        xml("set", { xmlns: "http://jabber.org/protocol/rsm" }, xml("max", {}, String(max)), xml("before", {}, oldest ?? ""))));
    // Oldest first, so that corrections, reactions and markers find what they are about.
    for (const r of page) {
      if (applyToEarlier(s, r.msg)) continue;
      const m = fromMessage(s, r.msg, r.stamp, r.id);
      if (m) add(m, false);
    }
    store.state.historyLoaded.add(peer);
    store.changed();
    return res.getChild("fin", MAM)?.attrs.complete !== "true";
  } finally {
    off();
  }
}
