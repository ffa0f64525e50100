// The news feed from Causerie's feed service (urn:causerie:feed:0, docs/protocol/feed.md): one iq per
// page, newest first, each result the pubsub event we would have received live, so pages and live
// events share the parsing. Live updates are those events (PEP +notify, community subscriptions).
// Without the service (Prosody, other servers) the feed is the client's own aggregation
// (microblog.ts refreshFeed), and the filters are not offered.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { MICROBLOG, postKey, putPost, toPost } from "./microblog";
import { COMMENTS_PREFIX } from "./comments";
import { store, type FeedFilter, type Post } from "../store";

export const FEED_NS = "urn:causerie:feed:0";
export const ATTACHMENTS_NS = "urn:xmpp:pubsub-attachments:1";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";
const EVENT = "http://jabber.org/protocol/pubsub#event";
const FORWARD = "urn:xmpp:forward:0";
const RSM = "http://jabber.org/protocol/rsm";

// Which of the server's services this account has (a disco#info query to our own bare JID).
export async function detectFeed(s: Session): Promise<void> {
  let features = new Set<string>();
  try {
    const res = await s.iq("get", s.bare, xml("query", { xmlns: DISCO_INFO }));
    features = new Set((res.getChild("query", DISCO_INFO)?.getChildren("feature") ?? []).map((f) => f.attrs.var ?? ""));
  } catch {
    // No answer: a plain server; the client-side feed applies.
  }
  store.state.feed.server = features.has(FEED_NS);
  store.state.feed.attachments = features.has(ATTACHMENTS_NS);
  store.changed();
}

// A post of a community (an Atom entry on a pubsub service's node), or null for anything else.
function communityPost(service: string, node: string, item: Element): Post | null {
  if (service.includes("@") || node === MICROBLOG || node.startsWith(COMMENTS_PREFIX) || node.startsWith("urn:xmpp:pubsub-attachments"))
    return null;
  const p = toPost(bareOf(item.attrs.publisher ?? service), item);
  if (p) p.community = { service, node };
  return p;
}

// The posts of one result of a page (of the feed, or of a search: docs/protocol/explore.md shapes its
// results the same way): the forwarded pubsub event of a person's microblog or a community's node.
export function postsOfResult(r: Element): Post[] {
  const msg = r.getChild("forwarded", FORWARD)?.getChild("message");
  const items = msg?.getChild("event", EVENT)?.getChild("items");
  const from = bareOf(msg?.attrs.from ?? "");
  const node = items?.attrs.node ?? "";
  return (items?.getChildren("item") ?? []).map((item) => node === MICROBLOG ? toPost(from, item) : communityPost(from, node, item))
    .filter((p) => p !== null);
}

// Why a post is in our feed, as the server's filters see it (the server says it for its pages; live
// events are classified the same way here).
export function kindsOf(p: Post, me: string): string[] {
  const k = p.kinds ? [...p.kinds] : [p.community ? "communities" : "people"];
  if (!k.includes("mentions") && (p.content + " " + p.title).includes("xmpp:" + me)) k.push("mentions");
  return k;
}

export function shownInFeed(p: Post, filter: FeedFilter, me: string): boolean {
  return filter === "all" || kindsOf(p, me).includes(filter);
}

const FILTERS: Record<FeedFilter, string[]> = {
  all: ["people", "communities", "mentions"],
  people: ["people"],
  communities: ["communities"],
  mentions: ["mentions"],
};

// Bumped when the filter changes: a page asked for before is then ignored.
let generation = 0;

// One page: the newest (more = false) or the one older than what we have.
export async function loadFeedPage(s: Session, more: boolean): Promise<void> {
  const f = store.state.feed;
  if (f.loading || (more && (f.complete || !f.last))) return;
  f.loading = true;
  store.changed();
  const mine = ++generation;
  try {
    const form = xml("x", { xmlns: "jabber:x:data", type: "submit" },
      xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, FEED_NS)),
      xml("field", { var: "filter" }, ...FILTERS[f.filter].map((v) => xml("value", {}, v))));
    const query = xml("query", { xmlns: FEED_NS }, form);
    if (more) query.append(xml("set", { xmlns: RSM }, xml("after", {}, f.last!)));
    const res = await s.iq("get", undefined, query);
    if (store.state.feed !== f || generation !== mine) return; // signed out, or another filter meanwhile
    const page = res.getChild("feed", FEED_NS);
    for (const r of page?.getChildren("result") ?? []) {
      for (const p of postsOfResult(r)) {
        p.kinds = (r.attrs.kinds ?? "").split(" ").filter(Boolean);
        putPost(p);
      }
    }
    f.last = page?.getChild("set", RSM)?.getChildText("last") ?? f.last;
    f.complete = page?.attrs.complete === "true";
  } finally {
    if (generation === mine) f.loading = false;
    store.changed();
  }
}

export async function setFeedFilter(s: Session, filter: FeedFilter): Promise<void> {
  const f = store.state.feed;
  if (f.filter === filter) return;
  f.filter = filter;
  f.last = undefined;
  f.complete = false;
  f.loading = false;
  generation++;
  store.changed();
  await loadFeedPage(s, false);
}

// Live posts of the communities we follow (those of our contacts come through microblog.ts).
export function startFeed(s: Session): void {
  s.onStanza((el) => {
    if (el.name !== "message" || !store.state.feed.server) return;
    const items = el.getChild("event", EVENT)?.getChild("items");
    const from = bareOf(el.attrs.from ?? "");
    const node = items?.attrs.node;
    if (!items || !node || from.includes("@")) return;
    let changed = false;
    for (const item of items.getChildren("item")) {
      const p = communityPost(from, node, item);
      if (p) {
        store.state.posts.set(postKey(p), p);
        changed = true;
      }
    }
    for (const r of items.getChildren("retract")) {
      const k = postKey({ owner: "", id: r.attrs.id ?? "", community: { service: from, node } });
      changed = store.state.posts.delete(k) || changed;
    }
    if (changed) store.changed();
  });
}
