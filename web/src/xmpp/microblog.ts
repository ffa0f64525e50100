// XEP-0277 microblogging on PEP: our posts and our contacts' posts, published with a per-post audience
// (publish-options `pubsub#access_model`: `presence` = my contacts, `open` = everyone, `roster` with
// `pubsub#roster_groups_allowed` = chosen roster groups, with the same groups in an `<audience/>` element
// for other clients: docs/protocol/audiences.md), hashtags as Atom categories, pictures as enclosures with
// their thumbnails (media.ts); edited by publishing the same item id again; read from each contact's
// node, and updated live from PEP notifications (we advertise urn:xmpp:microblog:0+notify). A post of ours
// in a community (XEP-0472) is edited and deleted the same way, on the community's node.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { submitForm } from "./forms";
import { store, type Picture, type Post } from "../store";
import { createCommentsNode, parseRepliesLink, repliesLink } from "./comments";
import { pictureLinks, picturesOf } from "./media";
import { hashtagsOf } from "../hashtags";

export const MICROBLOG = "urn:xmpp:microblog:0";
const PUBSUB = "http://jabber.org/protocol/pubsub";
const EVENT = "http://jabber.org/protocol/pubsub#event";
const ATOM = "http://www.w3.org/2005/Atom";
export const AUDIENCE = "urn:causerie:audience:0";

function key(owner: string, id: string): string {
  return owner + " " + id;
}

export function communityKey(service: string, node: string): string {
  return service + " " + node;
}

// Where a post is in the store: a person's microblog item by owner and id, a community's by its node.
export function postKey(p: Pick<Post, "owner" | "id" | "community">): string {
  return p.community ? communityKey(p.community.service, p.community.node) + " " + p.id : key(p.owner, p.id);
}

// Stores a community's post, read or written: it replaces the one with its id (an edit is the same item
// id published again, XEP-0060 §7.1.2), newest first; the news feed's copy, if any, follows.
export function putCommunityPost(p: Post, community: { service: string; node: string }): void {
  p.community = community;
  const k = communityKey(community.service, community.node);
  const list = (store.state.communityPosts.get(k) ?? []).filter((x) => x.id !== p.id);
  list.push(p);
  list.sort((a, b) => b.published - a.published);
  store.state.communityPosts.set(k, list);
  const old = store.state.posts.get(postKey(p));
  if (old) store.state.posts.set(postKey(p), { ...old, ...p });
}

// A community's post retracted (by us, or a notification of §7.2.2.1): gone from the community and the feed.
export function dropCommunityPost(community: { service: string; node: string }, id: string): void {
  const k = communityKey(community.service, community.node);
  store.state.communityPosts.set(k, (store.state.communityPosts.get(k) ?? []).filter((x) => x.id !== id));
  store.state.posts.delete(k + " " + id);
}

// Stores a post read from the network. The audience of our own posts is known to the tab that published
// them even when the entry does not say it (contacts, everyone): a notification or a page of the same post
// keeps what we knew.
export function putPost(p: Post): void {
  const k = postKey(p);
  const old = store.state.posts.get(k);
  if (p.access === "unknown" && old && old.access !== "unknown") {
    p.access = old.access;
    p.groups = old.groups;
  }
  store.state.posts.set(k, p);
}

export function toPost(owner: string, item: Element): Post | null {
  const entry = item.getChild("entry", ATOM);
  const id = item.attrs.id;
  if (!entry || !id) return null;
  const published = Date.parse(entry.getChildText("published", ATOM) ?? entry.getChildText("updated", ATOM) ?? "");
  const updated = Date.parse(entry.getChildText("updated", ATOM) ?? "");
  // Readers learn a post's audience only from the <audience/> element its publisher chose to include;
  // otherwise this tab knows it only for the posts it published.
  const audience = entry.getChild("audience", AUDIENCE);
  const groups = audience?.getChildren("group").map((g) => g.text());
  const links = entry.getChildren("link", ATOM);
  const replies = links.find((l) => l.attrs.rel === "replies" && l.attrs.href);
  const images = picturesOf(entry);
  const tags = entry.getChildren("category", ATOM).map((c) => c.attrs.term ?? "").filter(Boolean);
  return {
    images: images.length ? images : undefined,
    comments: replies ? parseRepliesLink(replies.attrs.href!) ?? undefined : undefined,
    owner,
    id,
    title: entry.getChildText("title", ATOM) ?? "",
    content: entry.getChildText("content", ATOM) ?? "",
    published: Number.isNaN(published) ? Date.now() : published,
    edited: !Number.isNaN(published) && !Number.isNaN(updated) && updated > published,
    access: audience ? "roster" : "unknown",
    groups,
    tags: tags.length ? tags : undefined,
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
      if (p) putPost(p);
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
      if (p) putPost(p);
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

// Who a post is for: my contacts, everyone, the contacts in chosen roster groups, or — when editing a
// post whose audience this tab does not know — unchanged (a publication stating no visibility keeps it).
export type Audience = { kind: "presence" | "open" | "keep" } | { kind: "roster"; groups: string[] };

export interface Draft {
  title: string;
  text: string;
  audience: Audience;
  allowComments: boolean;
  pictures: Picture[];
}

// The Atom entry of a post (for our microblog or a community): title, Markdown text, author, hashtags as
// categories, pictures with thumbnails, and the audience element.
export function atomEntry(s: Session, id: string, d: Omit<Draft, "allowComments">, published: string, updated: string,
  comments?: { service: string; node: string }): Element {
  const text = d.text.trim();
  const entry = xml("entry", { xmlns: ATOM },
    xml("title", { type: "text" }, d.title || text.split("\n")[0].slice(0, 80)),
    xml("content", { type: "text" }, text),
    xml("author", {}, xml("name", {}, s.bare.split("@")[0]), xml("uri", {}, "xmpp:" + s.bare)),
    xml("id", {}, `tag:${s.bare.split("@")[1]},${published.slice(0, 10)}:posts-${id}`),
    xml("published", {}, published),
    xml("updated", {}, updated),
    comments && xml("link", { rel: "replies", title: "comments", href: repliesLink(comments.service, comments.node) }));
  // XEP-0277 §"Categories": one per hashtag, the term as written.
  for (const tag of hashtagsOf(d.title + "\n" + text)) entry.append(xml("category", { term: tag }));
  // XEP-0277 §3.3 / RFC 4287 §4.2.7.2: pictures as enclosures, each followed by its XEP-0264 thumbnail.
  for (const p of d.pictures) entry.append(...pictureLinks(p));
  if (d.audience.kind === "roster")
    entry.append(xml("audience", { xmlns: AUDIENCE }, ...d.audience.groups.map((g) => xml("group", {}, g))));
  return entry;
}

function publishOptions(a: Audience): Element | null {
  if (a.kind === "keep") return null;
  const fields: Record<string, string | string[]> = { "pubsub#access_model": a.kind };
  if (a.kind === "roster") fields["pubsub#roster_groups_allowed"] = a.groups;
  return xml("publish-options", {}, submitForm(PUBSUB + "#publish-options", fields));
}

// Publishes a new post, or republishes `editing` (same item id, its publication time and discussion
// kept, unless comments are now turned off). A community's post is republished on its node, whose own
// access model applies (its audience is "keep"); the service lets only its publisher do so.
export async function publishPost(s: Session, d: Draft, editing?: Post): Promise<void> {
  const id = editing?.id ?? crypto.randomUUID();
  const community = editing?.community;
  const now = new Date().toISOString();
  const published = editing ? new Date(editing.published).toISOString() : now;
  let comments: Post["comments"] = d.allowComments ? editing?.comments : undefined;
  if (d.allowComments && !comments && !community) {
    const service = "pubsub." + s.bare.split("@")[1];
    try {
      comments = { service, node: await createCommentsNode(s, service, id) };
    } catch {
      comments = undefined; // no pubsub service: a post without discussion
    }
  }
  await s.iq("set", community?.service,
    xml("pubsub", { xmlns: PUBSUB },
      xml("publish", { node: community?.node ?? MICROBLOG }, xml("item", { id }, atomEntry(s, id, d, published, now, comments))),
      publishOptions(d.audience)));
  const a = d.audience;
  const text = d.text.trim();
  const tags = hashtagsOf(d.title + "\n" + text);
  const post: Post = {
    images: d.pictures.length ? d.pictures : undefined,
    comments,
    owner: s.bare, id, title: d.title, content: text, published: Date.parse(published), edited: !!editing,
    access: a.kind === "keep" ? editing?.access ?? "unknown" : a.kind,
    groups: a.kind === "roster" ? a.groups : a.kind === "keep" ? editing?.groups : undefined,
    tags: tags.length ? tags : undefined,
    authorName: s.bare.split("@")[0],
  };
  if (community) putCommunityPost(post, community);
  else store.state.posts.set(key(s.bare, id), post);
  store.changed();
}

// Retracts a post of ours, or a community's post: its author, or the node's owners and publishers
// (XEP-0060 §7.2.1), may; the service refuses anyone else.
export async function deletePost(s: Session, p: Post): Promise<void> {
  await s.iq("set", p.community?.service,
    xml("pubsub", { xmlns: PUBSUB }, xml("retract", { node: p.community?.node ?? MICROBLOG, notify: "true" }, xml("item", { id: p.id }))));
  if (p.community) dropCommunityPost(p.community, p.id);
  else store.state.posts.delete(key(s.bare, p.id));
  store.changed();
}
