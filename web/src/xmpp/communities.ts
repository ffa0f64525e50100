// XEP-0472 communities: pubsub nodes of a social-feed type on a service (pubsub.<domain> by default, or
// any other, remote ones too). Explore lists a service's nodes with their meta-data (XEP-0060 §5.4:
// title, description, type, subscriber and item counts); a community is followed by subscribing, read
// with its items, written by publishing Atom entries (if its publish model lets us), and created with
// a title, description, type and who may publish.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { submitForm } from "./forms";
import { toPost } from "./microblog";
import { store, type Community } from "../store";

const PUBSUB = "http://jabber.org/protocol/pubsub";
const EVENT = PUBSUB + "#event";
const DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";
const ATOM = "http://www.w3.org/2005/Atom";
export const BLOG_TYPE = "urn:xmpp:pubsub-social-feed:1";
export const GALLERY_TYPE = "urn:xmpp:pubsub-social-feed:gallery:1";

export function communityKey(service: string, node: string): string {
  return service + " " + node;
}

export function defaultService(s: Session): string {
  return "pubsub." + s.bare.split("@")[1];
}

function community(service: string, node: string): Community {
  const key = communityKey(service, node);
  let c = store.state.communities.get(key);
  if (!c) {
    c = { service, node, title: node, description: "", type: "", subscribed: false, affiliation: "none" };
    store.state.communities.set(key, c);
  }
  return c;
}

function formFields(x: Element | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of x?.getChildren("field") ?? []) if (f.attrs.var) out.set(f.attrs.var, f.getChildText("value") ?? "");
  return out;
}

// The nodes a service lists (disco#items), each with its meta-data.
export async function explore(s: Session, service: string): Promise<Community[]> {
  const res = await s.iq("get", service, xml("query", { xmlns: DISCO_ITEMS }));
  const found: Community[] = [];
  for (const item of res.getChild("query", DISCO_ITEMS)?.getChildren("item") ?? []) {
    if (!item.attrs.node || item.attrs.node.startsWith("urn:xmpp:microblog:0:comments/")) continue;
    const c = community(service, item.attrs.node);
    if (item.attrs.name) c.title = item.attrs.name;
    found.push(c);
  }
  store.changed();
  await Promise.all(found.map((c) => loadMeta(s, c).catch(() => {})));
  return found;
}

async function loadMeta(s: Session, c: Community): Promise<void> {
  const res = await s.iq("get", c.service, xml("query", { xmlns: DISCO_INFO, node: c.node }));
  const f = formFields(res.getChild("query", DISCO_INFO)?.getChildren("x", "jabber:x:data").find((x) =>
    x.getChildren("field").some((fl) => fl.attrs.var === "FORM_TYPE" && fl.getChildText("value") === PUBSUB + "#meta-data")));
  c.title = f.get("pubsub#title") || c.title;
  c.description = f.get("pubsub#description") ?? "";
  c.type = f.get("pubsub#type") ?? "";
  const n = Number(f.get("pubsub#num_subscribers"));
  if (!Number.isNaN(n)) c.subscribers = n;
  const items = Number(f.get("{urn:causerie:pubsub}num_items"));
  if (!Number.isNaN(items)) c.items = items;
  store.changed();
}

// What we need to show a community: meta-data, our subscription and affiliation, recent items.
export async function openCommunity(s: Session, service: string, node: string): Promise<void> {
  const c = community(service, node);
  await loadMeta(s, c).catch(() => {});
  try {
    const subs = await s.iq("get", service, xml("pubsub", { xmlns: PUBSUB }, xml("subscriptions", { node })));
    c.subscribed = (subs.getChild("pubsub", PUBSUB)?.getChild("subscriptions")?.getChildren("subscription") ?? [])
      .some((x) => bareOf(x.attrs.jid ?? "") === s.bare && x.attrs.subscription === "subscribed");
  } catch {
    c.subscribed = false;
  }
  try {
    const affs = await s.iq("get", service, xml("pubsub", { xmlns: PUBSUB }, xml("affiliations", { node })));
    c.affiliation = affs.getChild("pubsub", PUBSUB)?.getChild("affiliations")?.getChildren("affiliation")
      .find((a) => a.attrs.node === node)?.attrs.affiliation ?? "none";
  } catch {
    c.affiliation = "none";
  }
  await loadItems(s, c);
}

async function loadItems(s: Session, c: Community): Promise<void> {
  try {
    const res = await s.iq("get", c.service, xml("pubsub", { xmlns: PUBSUB }, xml("items", { node: c.node, max_items: "30" })));
    const posts = (res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item") ?? [])
      .map((i) => toPost(bareOf(i.attrs.publisher ?? c.service), i))
      .filter((p) => p !== null);
    posts.sort((a, b) => b.published - a.published);
    store.state.communityPosts.set(communityKey(c.service, c.node), posts);
  } catch {
    store.state.communityPosts.set(communityKey(c.service, c.node), []);
  }
  store.changed();
}

export function startCommunities(s: Session): void {
  s.onStanza((el) => {
    if (el.name !== "message" || !el.attrs.from) return;
    const items = el.getChild("event", EVENT)?.getChild("items");
    const key = items?.attrs.node ? communityKey(el.attrs.from, items.attrs.node) : "";
    if (!items || !store.state.communities.has(key)) return;
    const list = store.state.communityPosts.get(key) ?? [];
    for (const item of items.getChildren("item")) {
      const p = toPost(bareOf(item.attrs.publisher ?? el.attrs.from), item);
      if (p && !list.some((x) => x.id === p.id)) list.unshift(p);
    }
    for (const r of items.getChildren("retract")) {
      const i = list.findIndex((x) => x.id === r.attrs.id);
      if (i >= 0) list.splice(i, 1);
    }
    list.sort((a, b) => b.published - a.published);
    store.state.communityPosts.set(key, list);
    store.changed();
  });
}

export async function setSubscribed(s: Session, c: Community, on: boolean): Promise<void> {
  await s.iq("set", c.service, xml("pubsub", { xmlns: PUBSUB }, xml(on ? "subscribe" : "unsubscribe", { node: c.node, jid: s.bare })));
  c.subscribed = on;
  if (c.subscribers !== undefined) c.subscribers += on ? 1 : -1;
  store.changed();
}

export async function postToCommunity(s: Session, c: Community, title: string, text: string): Promise<void> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await s.iq("set", c.service, xml("pubsub", { xmlns: PUBSUB },
    xml("publish", { node: c.node }, xml("item", { id },
      xml("entry", { xmlns: ATOM },
        xml("title", { type: "text" }, title || text.split("\n")[0].slice(0, 80)),
        xml("content", { type: "text" }, text),
        xml("author", {}, xml("name", {}, s.bare.split("@")[0]), xml("uri", {}, "xmpp:" + s.bare)),
        xml("id", {}, id),
        xml("published", {}, now),
        xml("updated", {}, now))))));
  const key = communityKey(c.service, c.node);
  const list = store.state.communityPosts.get(key) ?? [];
  if (!list.some((x) => x.id === id))
    list.unshift({ owner: s.bare, id, title, content: text, published: Date.parse(now), access: "unknown", authorName: s.bare.split("@")[0] });
  store.state.communityPosts.set(key, list);
  store.changed();
}

// A new community: open to read, published to by its publishers (or anyone who subscribed).
export async function createCommunity(s: Session, service: string, node: string, title: string, description: string,
  type: string, publishModel: "publishers" | "subscribers" | "open"): Promise<Community> {
  await s.iq("set", service, xml("pubsub", { xmlns: PUBSUB },
    xml("create", { node }),
    xml("configure", {}, submitForm(PUBSUB + "#node_config", {
      "pubsub#title": title, "pubsub#description": description, "pubsub#type": type,
      "pubsub#access_model": "open", "pubsub#publish_model": publishModel, "pubsub#max_items": "max",
      "pubsub#notify_retract": "true",
    }))));
  const c = community(service, node);
  Object.assign(c, { title, description, type, affiliation: "owner", subscribers: 0, items: 0 });
  await setSubscribed(s, c, true).catch(() => {});
  store.changed();
  return c;
}
