// XEP-0472 communities: pubsub nodes of a social-feed type on a service (pubsub.<domain> by default, or
// any other, remote ones too). Explore lists a service's nodes with their meta-data (XEP-0060 §5.4:
// title, description, type, subscriber and item counts); a community is followed by subscribing, read
// with its items, written by publishing Atom entries (if its publish model lets us), and created with
// a title, description, type, who may read and who may publish. Owners see the members (XEP-0060 §8.8–8.9:
// subscriptions and affiliations, the affiliation changeable) and answer subscription requests to a
// community that needs approval (§8.6: the service's authorization form, submitted back with
// pubsub#allow); a pending subscriber sees the request as sent until the service says subscribed.
// Posts edited (republished) or retracted are replaced or removed live from the service's notifications.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { submitForm } from "./forms";
import { atomEntry, communityKey, dropCommunityPost, putCommunityPost, toPost } from "./microblog";
import { store, type Community, type Member, type PendingRequest, type Picture } from "../store";

const PUBSUB = "http://jabber.org/protocol/pubsub";
const EVENT = PUBSUB + "#event";
const OWNER = PUBSUB + "#owner";
const AUTHORIZATION = PUBSUB + "#subscribe_authorization";
const DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const BLOG_TYPE = "urn:xmpp:pubsub-social-feed:1";
export const GALLERY_TYPE = "urn:xmpp:pubsub-social-feed:gallery:1";

export { communityKey };

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
    const mine = (subs.getChild("pubsub", PUBSUB)?.getChild("subscriptions")?.getChildren("subscription") ?? [])
      .filter((x) => bareOf(x.attrs.jid ?? "") === s.bare);
    c.subscribed = mine.some((x) => x.attrs.subscription === "subscribed");
    c.pending = !c.subscribed && mine.some((x) => x.attrs.subscription === "pending");
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
  if (c.affiliation === "owner") await loadMembers(s, c).catch(() => {});
  c.loaded = true;
  store.changed();
}

async function loadItems(s: Session, c: Community): Promise<void> {
  try {
    const res = await s.iq("get", c.service, xml("pubsub", { xmlns: PUBSUB }, xml("items", { node: c.node, max_items: "30" })));
    const posts = (res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item") ?? [])
      .map((i) => toPost(bareOf(i.attrs.publisher ?? c.service), i))
      .filter((p) => p !== null);
    for (const p of posts) p.community = { service: c.service, node: c.node };
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
    if (onAuthorization(el) || onSubscriptionState(s, el)) return;
    const items = el.getChild("event", EVENT)?.getChild("items");
    const key = items?.attrs.node ? communityKey(el.attrs.from, items.attrs.node) : "";
    if (!items || !store.state.communities.has(key)) return;
    const where = { service: el.attrs.from, node: items.attrs.node! };
    for (const item of items.getChildren("item")) {
      const p = toPost(bareOf(item.attrs.publisher ?? el.attrs.from), item);
      if (p) putCommunityPost(p, where);
    }
    for (const r of items.getChildren("retract")) if (r.attrs.id) dropCommunityPost(where, r.attrs.id);
    store.changed();
  });
}

export async function setSubscribed(s: Session, c: Community, on: boolean): Promise<void> {
  const res = await s.iq("set", c.service, xml("pubsub", { xmlns: PUBSUB }, xml(on ? "subscribe" : "unsubscribe", { node: c.node, jid: s.bare })));
  // §6.1.2: a node that needs approval answers "pending" (§6.1.2 example 39).
  const state = res.getChild("pubsub", PUBSUB)?.getChild("subscription")?.attrs.subscription;
  c.pending = on && state === "pending";
  c.subscribed = on && !c.pending;
  if (c.subscribers !== undefined && c.subscribed) c.subscribers += 1;
  if (c.subscribers !== undefined && !on) c.subscribers -= 1;
  store.changed();
}

// §8.6: a subscription request to a node we own, as the service's form; kept until answered.
function onAuthorization(el: Element): boolean {
  const x = el.getChildren("x", "jabber:x:data").find((f) => formFields(f).get("FORM_TYPE") === AUTHORIZATION);
  if (!x) return false;
  const f = formFields(x);
  const node = f.get("pubsub#node") ?? "";
  const jid = f.get("pubsub#subscriber_jid") ?? "";
  if (!node || !jid) return true;
  const service = bareOf(el.attrs.from!);
  const key = communityKey(service, node);
  const list = (store.state.pendingRequests.get(key) ?? []).filter((r) => r.jid !== jid);
  list.push({ service, node, jid, subid: f.get("pubsub#subid") ?? "" });
  store.state.pendingRequests.set(key, list);
  store.changed();
  return true;
}

// §8.8.4 / §12.7: the service tells us our subscription's new state (an approval, a refusal).
function onSubscriptionState(s: Session, el: Element): boolean {
  const sub = el.getChild("event", EVENT)?.getChild("subscription");
  if (!sub?.attrs.node || bareOf(sub.attrs.jid ?? "") !== s.bare) return false;
  const c = store.state.communities.get(communityKey(bareOf(el.attrs.from!), sub.attrs.node));
  if (c) {
    c.subscribed = sub.attrs.subscription === "subscribed";
    c.pending = sub.attrs.subscription === "pending";
    store.changed();
  }
  return true;
}

export async function answerRequest(s: Session, r: PendingRequest, allow: boolean): Promise<void> {
  await s.send(xml("message", { to: r.service, id: crypto.randomUUID() },
    submitForm(AUTHORIZATION, {
      "pubsub#subid": r.subid || undefined, "pubsub#node": r.node, "pubsub#subscriber_jid": r.jid, "pubsub#allow": allow ? "true" : "false",
    })));
  const key = communityKey(r.service, r.node);
  store.state.pendingRequests.set(key, (store.state.pendingRequests.get(key) ?? []).filter((x) => x.jid !== r.jid));
  store.changed();
}

// §8.8.1 and §8.9.1: who is subscribed and who has which affiliation, for the owner.
export async function loadMembers(s: Session, c: Community): Promise<void> {
  const [subs, affs] = await Promise.all([
    s.iq("get", c.service, xml("pubsub", { xmlns: OWNER }, xml("subscriptions", { node: c.node }))),
    s.iq("get", c.service, xml("pubsub", { xmlns: OWNER }, xml("affiliations", { node: c.node }))),
  ]);
  const members = new Map<string, Member>();
  const get = (jid: string) => members.get(jid) ?? members.set(jid, { jid, affiliation: "none", subscription: "none" }).get(jid)!;
  for (const x of subs.getChild("pubsub", OWNER)?.getChild("subscriptions")?.getChildren("subscription") ?? [])
    if (x.attrs.jid) get(bareOf(x.attrs.jid)).subscription = x.attrs.subscription ?? "none";
  for (const x of affs.getChild("pubsub", OWNER)?.getChild("affiliations")?.getChildren("affiliation") ?? [])
    if (x.attrs.jid) get(bareOf(x.attrs.jid)).affiliation = x.attrs.affiliation ?? "none";
  store.state.communityMembers.set(communityKey(c.service, c.node), [...members.values()].sort((a, b) => a.jid.localeCompare(b.jid)));
  store.changed();
}

// §8.9.2: an owner changes someone's affiliation (publisher, member, none, outcast).
export async function setAffiliation(s: Session, c: Community, jid: string, affiliation: string): Promise<void> {
  await s.iq("set", c.service, xml("pubsub", { xmlns: OWNER },
    xml("affiliations", { node: c.node }, xml("affiliation", { jid, affiliation }))));
  await loadMembers(s, c);
}

// A post (or, in a gallery, pictures with a caption) with hashtags as categories and pictures with
// their thumbnails, as in our microblog (microblog.ts atomEntry); the node's own access model applies.
export async function postToCommunity(s: Session, c: Community, title: string, text: string, pictures: Picture[] = []): Promise<void> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  const entry = atomEntry(s, id, { title, text, audience: { kind: "keep" }, pictures }, now, now);
  await s.iq("set", c.service, xml("pubsub", { xmlns: PUBSUB }, xml("publish", { node: c.node }, xml("item", { id }, entry))));
  const key = communityKey(c.service, c.node);
  const p = toPost(s.bare, xml("item", { id }, entry));
  if (p && !store.state.communityPosts.get(key)?.some((x) => x.id === id)) putCommunityPost(p, { service: c.service, node: c.node });
  store.changed();
}

// A new community: open to read or to approved subscribers, published to by its publishers (or anyone
// who subscribed, or anyone).
export async function createCommunity(s: Session, service: string, node: string, title: string, description: string,
  type: string, publishModel: "publishers" | "subscribers" | "open", accessModel: "open" | "authorize" = "open"): Promise<Community> {
  await s.iq("set", service, xml("pubsub", { xmlns: PUBSUB },
    xml("create", { node }),
    xml("configure", {}, submitForm(PUBSUB + "#node_config", {
      "pubsub#title": title, "pubsub#description": description, "pubsub#type": type,
      "pubsub#access_model": accessModel, "pubsub#publish_model": publishModel, "pubsub#max_items": "max",
      "pubsub#notify_retract": "true",
    }))));
  const c = community(service, node);
  Object.assign(c, { title, description, type, affiliation: "owner", subscribers: 0, items: 0 });
  await setSubscribed(s, c, true).catch(() => {});
  store.changed();
  return c;
}
