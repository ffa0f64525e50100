// People, beyond the roster: who follows whom (XEP-0465 public subscriptions: a person's PEP node
// urn:xmpp:pps:subscriptions:0 lists what they follow, urn:xmpp:pps:subscribers:0/<node> who follows their
// node), following a person's microblog (a XEP-0060 subscription made public with <public/>, asked of their
// own PEP service, which may be on another server, plus a contact request so that their contacts-only
// posts reach us too), blocking (XEP-0191) and reporting (XEP-0377, a report inside a block).
import { xml, type Element } from "@xmpp/client";
import type { Session } from "./session";
import { MICROBLOG, fetchPosts } from "./microblog";
import { addContact } from "./roster";
import { store, type Follows } from "../store";

const PUBSUB = "http://jabber.org/protocol/pubsub";
const PPS = "urn:xmpp:pps:0";
const PPS_SUBSCRIPTIONS = "urn:xmpp:pps:subscriptions:0";
const PPS_SUBSCRIBERS = "urn:xmpp:pps:subscribers:0/" + MICROBLOG;
const BLOCKING = "urn:xmpp:blocking";
const REPORTING = "urn:xmpp:reporting:1";

export type ReportReason = "spam" | "abuse";

function entry(jid: string): Follows {
  let f = store.state.people.get(jid);
  if (!f) {
    f = {};
    store.state.people.set(jid, f);
  }
  return f;
}

async function listed(s: Session, jid: string, node: string, name: string): Promise<string[]> {
  const res = await s.iq("get", jid, xml("pubsub", { xmlns: PUBSUB }, xml("items", { node })));
  const out: string[] = [];
  for (const item of res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item") ?? []) {
    const el = item.getChild(name, PPS);
    // Only people's microblogs count as "follows" here (the list also names communities' nodes).
    if (el?.attrs.jid && (name === "subscriber" || el.attrs.node === MICROBLOG)) out.push(el.attrs.jid);
  }
  return out.sort();
}

// Whether we are subscribed to their microblog, asked of their service (XEP-0060 §5.6), since our own
// server lists only the subscriptions made to its services.
async function ourSubscription(s: Session, jid: string): Promise<boolean> {
  const res = await s.iq("get", jid, xml("pubsub", { xmlns: PUBSUB }, xml("subscriptions", { node: MICROBLOG })));
  return (res.getChild("pubsub", PUBSUB)?.getChild("subscriptions")?.getChildren("subscription") ?? [])
    .some((x) => x.attrs.subscription === "subscribed" && (x.attrs.jid ?? "").split("/")[0] === s.bare);
}

// Loads what a profile shows about follows; each part missing (no node, not allowed, another server that
// has none of it) is left unknown rather than failing the rest.
export async function loadFollows(s: Session, jid: string): Promise<void> {
  const f = entry(jid);
  // No such node: nobody (yet); any other error: not shown to us.
  const none = (e: unknown) => ((e as { condition?: string }).condition === "item-not-found" ? [] : undefined);
  await Promise.all([
    listed(s, jid, PPS_SUBSCRIPTIONS, "subscription").then((v) => { f.follows = v; }).catch((e) => { f.follows = none(e); }),
    listed(s, jid, PPS_SUBSCRIBERS, "subscriber").then((v) => { f.followers = v; }).catch((e) => { f.followers = none(e); }),
    jid === s.bare ? Promise.resolve() : ourSubscription(s, jid).then((v) => { f.following = v; }).catch(() => {}),
  ]);
  store.changed();
}

// People we asked to follow whose service refused the subscription (a node for contacts only, the XEP-0163
// default): subscribed again once the roster says they accepted our contact request.
const awaitingAcceptance = new Set<string>();

async function subscribe(s: Session, jid: string): Promise<boolean> {
  try {
    await s.iq("set", jid, xml("pubsub", { xmlns: PUBSUB },
      xml("subscribe", { node: MICROBLOG, jid: s.bare }, xml("public", { xmlns: PPS }))));
    entry(jid).following = true;
    awaitingAcceptance.delete(jid);
    return true;
  } catch {
    return false;
  }
}

// Follows a person, local or on another server: a contact request (their contacts-only posts then reach
// us once they accept) and a public subscription to their microblog (their public posts reach us at
// once). A service that refuses the subscription before they accept is asked again after.
export async function follow(s: Session, jid: string): Promise<void> {
  const c = store.state.contacts.get(jid);
  const accepted = c?.subscription === "to" || c?.subscription === "both";
  if (!c || !(c.pendingOut || accepted)) await addContact(s, jid, c?.name ?? "");
  if (!(await subscribe(s, jid)) && !accepted) awaitingAcceptance.add(jid);
  await Promise.all([fetchPosts(s, jid), loadFollows(s, jid)]);
}

// Stops following: the microblog subscription ends and we stop receiving their presence (and so their
// posts through +notify); the contact stays in the roster, and they still see ours.
export async function unfollow(s: Session, jid: string): Promise<void> {
  try {
    await s.iq("set", jid, xml("pubsub", { xmlns: PUBSUB }, xml("unsubscribe", { node: MICROBLOG, jid: s.bare })));
  } catch {
    // Not subscribed there.
  }
  await s.send(xml("presence", { to: jid, type: "unsubscribe" }));
  awaitingAcceptance.delete(jid);
  entry(jid).following = false;
  for (const [k, p] of store.state.posts) if (p.owner === jid && !p.community) store.state.posts.delete(k);
  await loadFollows(s, jid);
}

function applyBlocking(el: Element, add: boolean): void {
  const items = el.getChildren("item");
  if (!add && items.length === 0) store.state.blocked.clear(); // unblock all (XEP-0191 §3.4)
  for (const i of items) if (i.attrs.jid) add ? store.state.blocked.add(i.attrs.jid) : store.state.blocked.delete(i.attrs.jid);
  store.changed();
}

// Watches the roster for acceptances of our follows, and loads the blocklist with the server's pushes of
// changes made by any of our sessions (XEP-0191 §3.5).
export async function startPeople(s: Session): Promise<void> {
  awaitingAcceptance.clear();
  const stop = store.subscribe(() => {
    if (store.state.me !== s.bare) return stop(); // signed out: this session's watch ends
    for (const jid of [...awaitingAcceptance]) {
      const c = store.state.contacts.get(jid);
      if (c?.subscription !== "to" && c?.subscription !== "both") continue;
      awaitingAcceptance.delete(jid);
      void subscribe(s, jid).then((ok) => (ok ? loadFollows(s, jid) : undefined));
    }
  });
  s.onIqSet(BLOCKING, "block", (iq) => {
    if (iq.attrs.from && iq.attrs.from !== s.bare) return false; // pushes come from our own account only
    applyBlocking(iq.getChild("block", BLOCKING)!, true);
    return true;
  });
  s.onIqSet(BLOCKING, "unblock", (iq) => {
    if (iq.attrs.from && iq.attrs.from !== s.bare) return false;
    applyBlocking(iq.getChild("unblock", BLOCKING)!, false);
    return true;
  });
  try {
    const res = await s.iq("get", undefined, xml("blocklist", { xmlns: BLOCKING }));
    store.state.blocked.clear();
    applyBlocking(res.getChild("blocklist", BLOCKING)!, true);
  } catch {
    // A server without XEP-0191: nothing to show, and the buttons fail with an error shown.
  }
}

// Blocks a JID; with a report, the server also tells its admins why (XEP-0377 §4).
export async function block(s: Session, jid: string, report?: { reason: ReportReason; text: string }): Promise<void> {
  const item = xml("item", { jid });
  if (report) {
    item.append(xml("report", { xmlns: REPORTING, reason: "urn:xmpp:reporting:" + report.reason },
      report.text ? xml("text", {}, report.text) : null));
  }
  await s.iq("set", undefined, xml("block", { xmlns: BLOCKING }, item));
  store.state.blocked.add(jid);
  store.changed();
}

export async function unblock(s: Session, jid: string): Promise<void> {
  await s.iq("set", undefined, xml("unblock", { xmlns: BLOCKING }, xml("item", { jid })));
  store.state.blocked.delete(jid);
  store.changed();
}
