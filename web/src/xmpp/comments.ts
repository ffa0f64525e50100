// XEP-0277 §6 comments: each post's discussion is a node on a pubsub service ("urn:xmpp:microblog:0:
// comments/<post id>" on pubsub.<domain>, linked from the post). The author creates it open to anyone
// who may read the post (Causerie makes its access follow the post's audience) and subscribes to it.
// A like is a comment whose title is "♥", as Movim writes them.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { submitForm } from "./forms";
import { store, type Comment } from "../store";

const PUBSUB = "http://jabber.org/protocol/pubsub";
const EVENT = "http://jabber.org/protocol/pubsub#event";
const ATOM = "http://www.w3.org/2005/Atom";
export const COMMENTS_PREFIX = "urn:xmpp:microblog:0:comments/";
export const LIKE = "♥";

export function commentsKey(service: string, node: string): string {
  return service + " " + node;
}

// "xmpp:pubsub.example?;node=urn%3Axmpp%3A…" (XEP-0277 §6.1).
export function parseRepliesLink(href: string): { service: string; node: string } | null {
  const m = /^xmpp:([^?]+)\?;node=(.+)$/.exec(href);
  if (!m) return null;
  try {
    return { service: m[1], node: decodeURIComponent(m[2]) };
  } catch {
    return null;
  }
}

export function repliesLink(service: string, node: string): string {
  return `xmpp:${service}?;node=${encodeURIComponent(node)}`;
}

function toComment(item: Element): Comment | null {
  const entry = item.getChild("entry", ATOM);
  if (!entry || !item.attrs.id) return null;
  const published = Date.parse(entry.getChildText("published", ATOM) ?? "");
  const publisher = bareOf(item.attrs.publisher ?? "");
  return {
    id: item.attrs.id,
    publisher,
    authorName: entry.getChild("author", ATOM)?.getChildText("name", ATOM) ?? publisher,
    text: entry.getChildText("title", ATOM) ?? entry.getChildText("content", ATOM) ?? "",
    published: Number.isNaN(published) ? Date.now() : published,
  };
}

function put(key: string, c: Comment): void {
  const list = (store.state.comments.get(key) ?? []).filter((x) => x.id !== c.id);
  list.push(c);
  list.sort((a, b) => a.published - b.published);
  store.state.comments.set(key, list);
}

export function startComments(s: Session): void {
  s.onStanza((el) => {
    if (el.name !== "message") return;
    const items = el.getChild("event", EVENT)?.getChild("items");
    const node = items?.attrs.node;
    const from = el.attrs.from;
    if (!items || !node?.startsWith(COMMENTS_PREFIX) || !from) return;
    const key = commentsKey(from, node);
    for (const item of items.getChildren("item")) {
      const c = toComment(item);
      if (c) put(key, c);
    }
    for (const r of items.getChildren("retract"))
      store.state.comments.set(key, (store.state.comments.get(key) ?? []).filter((x) => x.id !== r.attrs.id));
    store.changed();
  });
}

// Creates the discussion node of a post we are about to publish, and follows it.
export async function createCommentsNode(s: Session, service: string, postId: string): Promise<string> {
  const node = COMMENTS_PREFIX + postId;
  await s.iq("set", service,
    xml("pubsub", { xmlns: PUBSUB },
      xml("create", { node }),
      xml("configure", {}, submitForm(PUBSUB + "#node_config", {
        "pubsub#access_model": "open", "pubsub#publish_model": "open", "pubsub#max_items": "max",
      }))));
  await s.iq("set", service, xml("pubsub", { xmlns: PUBSUB }, xml("subscribe", { node, jid: s.bare })));
  return node;
}

export async function loadComments(s: Session, service: string, node: string): Promise<void> {
  const res = await s.iq("get", service, xml("pubsub", { xmlns: PUBSUB }, xml("items", { node })));
  const key = commentsKey(service, node);
  store.state.comments.set(key, []);
  for (const item of res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item") ?? []) {
    const c = toComment(item);
    if (c) put(key, c);
  }
  store.changed();
}

export async function addComment(s: Session, service: string, node: string, text: string): Promise<void> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await s.iq("set", service,
    xml("pubsub", { xmlns: PUBSUB },
      xml("publish", { node },
        xml("item", { id },
          xml("entry", { xmlns: ATOM },
            xml("title", { type: "text" }, text),
            xml("author", {}, xml("name", {}, s.bare.split("@")[0]), xml("uri", {}, "xmpp:" + s.bare)),
            xml("id", {}, id),
            xml("published", {}, now),
            xml("updated", {}, now))))));
  put(commentsKey(service, node), { id, publisher: s.bare, authorName: s.bare.split("@")[0], text, published: Date.parse(now) });
  store.changed();
}
