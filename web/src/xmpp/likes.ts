// Likes as XEP-0470 attachments (v0.2.0) where the server offers them: a like is our <noticed/> in the
// post's attachments node ("urn:xmpp:pubsub-attachments:1/" + the item's XMPP URI, item id = our bare
// JID, so one per person), and the count is the <noticed count/> of the summary the server keeps beside
// the post's node (it also counts Movim's "♥" comments, once per person). Summaries of our contacts'
// microblogs come live (+notify in our caps); a community's summary is read again after we like.
// Servers without attachments keep the "♥" comments, counted here (Feed.tsx).
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { MICROBLOG } from "./microblog";
import { store, type Post } from "../store";

const PUBSUB = "http://jabber.org/protocol/pubsub";
const EVENT = PUBSUB + "#event";
const ATTACHMENTS = "urn:xmpp:pubsub-attachments:1";
const SUMMARY = "urn:xmpp:pubsub-attachments:summary:1";

function target(p: Post): { service: string; node: string; id: string } {
  return { service: p.community?.service ?? p.owner, node: p.community?.node ?? MICROBLOG, id: p.id };
}

export function likeKey(p: Post): string {
  const t = target(p);
  return t.service + " " + t.node + " " + t.id;
}

// XEP-0470 §"Attachment Node": the item's XMPP URI (RFC 5122 query, XEP-0060 pubsub action).
function attachmentsNode(t: { service: string; node: string; id: string }): string {
  return `${ATTACHMENTS}/xmpp:${t.service}?;node=${encodeURIComponent(t.node)};item=${encodeURIComponent(t.id)}`;
}

function noticedCount(summary: Element | undefined): number {
  const n = Number(summary?.getChild("noticed", SUMMARY)?.attrs.count ?? "0");
  return Number.isNaN(n) ? 0 : n;
}

async function firstItem(s: Session, service: string, node: string, id: string): Promise<Element | undefined> {
  try {
    const res = await s.iq("get", service, xml("pubsub", { xmlns: PUBSUB }, xml("items", { node }, xml("item", { id }))));
    return res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item").find((i) => i.attrs.id === id);
  } catch {
    return undefined; // no summary or attachments node yet: nobody liked it
  }
}

async function loadSummary(s: Session, p: Post): Promise<void> {
  const t = target(p);
  const item = await firstItem(s, t.service, `${SUMMARY}/${t.node}`, t.id);
  store.state.likes.set(likeKey(p), noticedCount(item?.getChild("summary", SUMMARY)));
  store.changed();
}

// The count and whether we liked, read once per post shown.
export async function loadLikes(s: Session, p: Post): Promise<void> {
  const k = likeKey(p);
  if (store.state.likes.has(k)) return;
  store.state.likes.set(k, 0);
  const t = target(p);
  const [mine] = await Promise.all([firstItem(s, t.service, attachmentsNode(t), s.bare), loadSummary(s, p)]);
  if (mine?.getChild("attachments", ATTACHMENTS)?.getChild("noticed")) store.state.liked.add(k);
  store.changed();
}

export async function like(s: Session, p: Post): Promise<void> {
  const t = target(p);
  await s.iq("set", t.service, xml("pubsub", { xmlns: PUBSUB },
    xml("publish", { node: attachmentsNode(t) },
      xml("item", { id: s.bare },
        xml("attachments", { xmlns: ATTACHMENTS }, xml("noticed", { timestamp: new Date().toISOString() }))))));
  store.state.liked.add(likeKey(p));
  store.changed();
  await loadSummary(s, p);
}

export function startLikes(s: Session): void {
  s.onStanza((el) => {
    if (el.name !== "message") return;
    const items = el.getChild("event", EVENT)?.getChild("items");
    const node = items?.attrs.node;
    if (!items || !node?.startsWith(SUMMARY + "/")) return;
    const service = bareOf(el.attrs.from ?? "");
    const target = node.slice(SUMMARY.length + 1);
    for (const item of items.getChildren("item"))
      if (item.attrs.id) store.state.likes.set(`${service} ${target} ${item.attrs.id}`, noticedCount(item.getChild("summary", SUMMARY)));
    store.changed();
  });
}
