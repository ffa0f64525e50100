// XEP-0277 microblogging on PEP: our posts and our contacts' posts, published with a per-post audience
// (publish-options `pubsub#access_model`: `presence` = my contacts, `open` = everyone), read from each
// contact's node, and updated live from PEP notifications (we advertise urn:xmpp:microblog:0+notify).
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { submitForm } from "./forms";
import { store, type Post } from "../store";
import { createCommentsNode, parseRepliesLink, repliesLink } from "./comments";

export const MICROBLOG = "urn:xmpp:microblog:0";
const PUBSUB = "http://jabber.org/protocol/pubsub";
const EVENT = "http://jabber.org/protocol/pubsub#event";
const ATOM = "http://www.w3.org/2005/Atom";

function key(owner: string, id: string): string {
  return owner + " " + id;
}

// Where a post is in the store: a person's microblog item by owner and id, a community's by its node.
export function postKey(p: Pick<Post, "owner" | "id" | "community">): string {
  return p.community ? p.community.service + " " + p.community.node + " " + p.id : key(p.owner, p.id);
}

export function toPost(owner: string, item: Element): Post | null {
  const entry = item.getChild("entry", ATOM);
  const id = item.attrs.id;
  if (!entry || !id) return null;
  const published = Date.parse(entry.getChildText("published", ATOM) ?? entry.getChildText("updated", ATOM) ?? "");
  // Readers are not told a post's audience (XEP-0277 has no field for it); this tab knows it only for the
  // posts it published.
  const access = "unknown";
  const links = entry.getChildren("link", ATOM);
  const replies = links.find((l) => l.attrs.rel === "replies" && l.attrs.href);
  const images = links.filter((l) => l.attrs.rel === "enclosure" && l.attrs.href && (l.attrs.type ?? "").startsWith("image/"))
    .map((l) => l.attrs.href!);
  return {
    images: images.length ? images : undefined,
    comments: replies ? parseRepliesLink(replies.attrs.href!) ?? undefined : undefined,
    owner,
    id,
    title: entry.getChildText("title", ATOM) ?? "",
    content: entry.getChildText("content", ATOM) ?? "",
    published: Number.isNaN(published) ? Date.now() : published,
    access,
    authorName: entry.getChild("author", ATOM)?.getChildText("name", ATOM) ?? owner,
  };
}

export function startMicroblog(s: Session): void {
  s.onStanza((el) => {
    if (el.name !== "message") return;
    const items = el.getChild("event", EVENT)?.getChild("items");
    if (!items || items.attrs.node !== MICROBLOG) return;
    const owner = bareOf(el.attrs.from ?? "");
    if (!owner) return;
    for (const item of items.getChildren("item")) {
      const p = toPost(owner, item);
      if (p) store.state.posts.set(key(owner, p.id), p);
    }
    for (const r of items.getChildren("retract")) if (r.attrs.id) store.state.posts.delete(key(owner, r.attrs.id));
    store.changed();
  });
}

// Recent posts of one account (ours or a contact's); missing nodes and refusals are not errors here.
export async function fetchPosts(s: Session, owner: string, max = 20): Promise<void> {
  try {
    const res = await s.iq("get", owner, xml("pubsub", { xmlns: PUBSUB }, xml("items", { node: MICROBLOG, max_items: String(max) })));
    for (const item of res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item") ?? []) {
      const p = toPost(owner, item);
      if (p) store.state.posts.set(key(owner, p.id), p);
    }
    store.changed();
  } catch {
    // No node yet, or not allowed to see it.
  }
}

// The feed without a server-side feed service: our node and each contact's we may see.
export async function refreshFeed(s: Session): Promise<void> {
  const owners = [s.bare, ...[...store.state.contacts.values()].filter((c) => c.subscription === "to" || c.subscription === "both").map((c) => c.jid)];
  await Promise.all(owners.map((o) => fetchPosts(s, o)));
}

export async function publishPost(s: Session, text: string, title: string, audience: "open" | "presence", allowComments = true,
  images: Array<{ url: string; type: string }> = []): Promise<void> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const service = "pubsub." + s.bare.split("@")[1];
  let comments: Post["comments"];
  if (allowComments) {
    try {
      comments = { service, node: await createCommentsNode(s, service, id) };
    } catch {
      comments = undefined; // no pubsub service: a post without discussion
    }
  }
  const entry = xml("entry", { xmlns: ATOM },
    xml("title", { type: "text" }, title || text.split("\n")[0].slice(0, 80)),
    xml("content", { type: "text" }, text),
    xml("author", {}, xml("name", {}, s.bare.split("@")[0]), xml("uri", {}, "xmpp:" + s.bare)),
    xml("id", {}, `tag:${s.bare.split("@")[1]},${now.slice(0, 10)}:posts-${id}`),
    xml("published", {}, now),
    xml("updated", {}, now),
    comments && xml("link", { rel: "replies", title: "comments", href: repliesLink(comments.service, comments.node) }));
  // XEP-0277 §3.3 / RFC 4287 §4.2.7.2: pictures as enclosures.
  for (const img of images) entry.append(xml("link", { rel: "enclosure", href: img.url, type: img.type }));
  await s.iq("set", undefined,
    xml("pubsub", { xmlns: PUBSUB },
      xml("publish", { node: MICROBLOG }, xml("item", { id }, entry)),
      xml("publish-options", {}, submitForm(PUBSUB + "#publish-options", { "pubsub#access_model": audience }))));
  store.state.posts.set(key(s.bare, id), {
    images: images.length ? images.map((i) => i.url) : undefined,
    comments,
    owner: s.bare, id, title, content: text, published: Date.parse(now), access: audience, authorName: s.bare.split("@")[0],
  });
  store.changed();
}

export async function deletePost(s: Session, id: string): Promise<void> {
  await s.iq("set", undefined,
    xml("pubsub", { xmlns: PUBSUB }, xml("retract", { node: MICROBLOG, notify: "true" }, xml("item", { id }))));
  store.state.posts.delete(key(s.bare, id));
  store.changed();
}
