// RFC 6121 roster and presence subscriptions: the contact list, requests to accept or refuse, adding and
// removing contacts, and who is online.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { store, type Contact, type Presence } from "../store";

const NS = "jabber:iq:roster";

function toContact(item: Element, old?: Contact): Contact {
  return {
    jid: item.attrs.jid ?? "",
    name: item.attrs.name ?? "",
    subscription: (item.attrs.subscription as Contact["subscription"]) ?? "none",
    pendingOut: item.attrs.ask === "subscribe",
    groups: item.getChildren("group").map((g) => g.text()),
    presence: old?.presence ?? "offline",
  };
}

function applyItem(item: Element): void {
  const j = item.attrs.jid;
  if (!j) return;
  const contacts = store.state.contacts;
  if (item.attrs.subscription === "remove") contacts.delete(j);
  else contacts.set(j, toContact(item, contacts.get(j)));
}

export async function startRoster(s: Session): Promise<void> {
  // Roster pushes (RFC 6121 §2.1.6), only from our own account (§2.1.6: ignore others).
  s.onIqSet(NS, "query", (iq) => {
    const from = iq.attrs.from;
    if (from && from !== s.bare) return false;
    for (const item of iq.getChild("query", NS)!.getChildren("item")) applyItem(item);
    store.changed();
    return true;
  });
  s.onStanza((el) => {
    if (el.name === "presence") onPresence(s, el);
  });
  const res = await s.iq("get", undefined, xml("query", { xmlns: NS }));
  for (const item of res.getChild("query", NS)?.getChildren("item") ?? []) applyItem(item);
  store.changed();
}

// Available resources per contact: a contact is online while any resource is.
const resources = new Map<string, Map<string, Presence>>();

function onPresence(s: Session, el: Element): void {
  const from = el.attrs.from;
  if (!from) return;
  const bare = bareOf(from);
  const type = el.attrs.type;
  if (type === "subscribe") {
    if (!store.state.requests.includes(bare) && bare !== s.bare) store.state.requests.push(bare);
    store.changed();
    return;
  }
  if (type && type !== "unavailable") return;
  const per = resources.get(bare) ?? new Map<string, Presence>();
  if (type === "unavailable") per.delete(from);
  else per.set(from, ["away", "xa", "dnd"].includes(el.getChildText("show") ?? "") ? "away" : "online");
  resources.set(bare, per);
  const c = store.state.contacts.get(bare);
  if (c) {
    const all = [...per.values()];
    c.presence = all.includes("online") ? "online" : all.length ? "away" : "offline";
    store.changed();
  }
}

// Asks to see their presence, and pre-approves their asking back (RFC 6121 §3.4), so that a contact is
// mutual as soon as they accept.
export async function addContact(s: Session, jid: string, name: string): Promise<void> {
  await s.iq("set", undefined, xml("query", { xmlns: NS }, xml("item", { jid, name: name || undefined })));
  await s.send(xml("presence", { to: jid, type: "subscribe" }));
  await s.send(xml("presence", { to: jid, type: "subscribed" }));
}

export async function removeContact(s: Session, jid: string): Promise<void> {
  await s.iq("set", undefined, xml("query", { xmlns: NS }, xml("item", { jid, subscription: "remove" })));
}

export async function answerRequest(s: Session, jid: string, accept: boolean): Promise<void> {
  store.state.requests = store.state.requests.filter((r) => r !== jid);
  store.changed();
  await s.send(xml("presence", { to: jid, type: accept ? "subscribed" : "unsubscribed" }));
  // Accepting means following back, as people expect from a "contact".
  if (accept && !store.state.contacts.get(jid)?.subscription.match(/to|both/)) {
    await s.iq("set", undefined, xml("query", { xmlns: NS }, xml("item", { jid })));
    await s.send(xml("presence", { to: jid, type: "subscribe" }));
  }
}
