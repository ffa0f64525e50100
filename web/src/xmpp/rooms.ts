// XEP-0045 group chat: joining (a new room is created and accepted as an instant room, §10.1.2), the
// occupant list from presence, messages and the subject, leaving. Joined rooms are kept as XEP-0402
// bookmarks with autojoin, so they come back on the next sign-in, here or in any other client.
// Owners configure a room through its muc#owner form (§10.2); moderators kick (§8.2), give and take
// voice (§8.3–8.4), admins ban (§9.1), and moderators retract a message (XEP-0425 v0.3).
import { xml, type Element } from "@xmpp/client";
import type { Session } from "./session";
import { store, type Room } from "../store";

const MUC = "http://jabber.org/protocol/muc";
const MUC_USER = MUC + "#user";
const MUC_OWNER = MUC + "#owner";
const BOOKMARKS = "urn:xmpp:bookmarks:1";
const MUC_ADMIN = MUC + "#admin";
const PUBSUB = "http://jabber.org/protocol/pubsub";
const MODERATE = "urn:xmpp:message-moderate:1";
const RETRACT = "urn:xmpp:message-retract:1";

function split(full: string): [string, string] {
  const slash = full.indexOf("/");
  return slash < 0 ? [full, ""] : [full.slice(0, slash), full.slice(slash + 1)];
}

export function startRooms(s: Session): void {
  s.onStanza((el) => {
    const from = el.attrs.from;
    if (!from) return;
    const [bare, nick] = split(from);
    const room = store.state.rooms.get(bare);
    if (!room) return;
    if (el.name === "presence") onPresence(s, room, el, nick);
    else if (el.name === "message" && el.attrs.type === "groupchat") onMessage(room, el, nick);
    else if (el.name === "message" && el.attrs.type === "error") {
      room.error = el.getChild("error")?.getChildElements()[0]?.name ?? "error";
      store.changed();
    }
  });
}

function onPresence(s: Session, room: Room, el: Element, nick: string): void {
  const x = el.getChild("x", MUC_USER);
  if (el.attrs.type === "error") {
    room.error = el.getChild("error")?.getChildElements()[0]?.name ?? "error";
    room.joined = false;
    store.changed();
    return;
  }
  const item = x?.getChild("item");
  const codes = x?.getChildren("status").map((c) => c.attrs.code) ?? [];
  if (el.attrs.type === "unavailable") room.occupants.delete(nick);
  else room.occupants.set(nick, { nick, role: item?.attrs.role ?? "participant", affiliation: item?.attrs.affiliation ?? "none",
    jid: item?.attrs.jid ? item.attrs.jid.split("/")[0] : undefined });
  if (el.attrs.type === "unavailable" && (codes.includes("110") || nick === room.nick) && (codes.includes("307") || codes.includes("301"))) {
    // §8.2 / §9.1: we were kicked (307) or banned (301).
    room.joined = false;
    room.occupants.clear();
    room.error = codes.includes("301") ? "banned" : "kicked";
  } else if (codes.includes("110")) {
    // Our own presence: the join is complete (§7.2.3); 201 means we just created the room (§10.1.1).
    room.joined = el.attrs.type !== "unavailable";
    room.nick = nick;
    room.error = undefined;
    if (codes.includes("201"))
      void s.iq("set", room.jid, xml("query", { xmlns: MUC_OWNER }, xml("x", { xmlns: "jabber:x:data", type: "submit" })));
  }
  store.changed();
}

function onMessage(room: Room, el: Element, nick: string): void {
  // XEP-0425: a moderator retracted a message; the room says so, from its own address.
  const retract = el.getChild("retract", RETRACT);
  if (retract?.attrs.id && !nick && retract.getChild("moderated", MODERATE)) {
    const m = room.messages.find((x) => x.id === retract.attrs.id);
    if (m) {
      m.body = "";
      m.retracted = true;
      store.changed();
    }
    return;
  }
  const subject = el.getChild("subject");
  if (subject && !el.getChild("body")) {
    room.subject = subject.text();
    store.changed();
    return;
  }
  const body = el.getChildText("body");
  if (body === null) return;
  const sid = el.getChildren("stanza-id", "urn:xmpp:sid:0").find((e) => e.attrs.by === room.jid)?.attrs.id;
  const id = sid ?? el.attrs.id ?? crypto.randomUUID();
  if (room.messages.some((m) => m.id === id)) return;
  const stamp = el.getChild("delay", "urn:xmpp:delay")?.attrs.stamp;
  room.messages.push({ id, nick, body, stamp: stamp ? Date.parse(stamp) : Date.now(), mine: nick === room.nick, fromRoomArchive: !!sid });
  room.messages.sort((a, b) => a.stamp - b.stamp);
  store.changed();
}

export async function joinRoom(s: Session, jid: string, nick: string, remember = true): Promise<void> {
  const bare = jid.toLowerCase();
  const existing = store.state.rooms.get(bare);
  const room: Room = existing ?? { jid: bare, nick, joined: false, subject: "", occupants: new Map(), messages: [] };
  room.nick = nick;
  room.error = undefined;
  store.state.rooms.set(bare, room);
  store.changed();
  await s.send(xml("presence", { to: `${bare}/${nick}` }, xml("x", { xmlns: MUC }, xml("history", { maxstanzas: "50" }))));
  if (remember) await saveBookmark(s, bare, nick).catch(() => {});
}

export async function leaveRoom(s: Session, jid: string): Promise<void> {
  const room = store.state.rooms.get(jid);
  if (!room) return;
  store.state.rooms.delete(jid);
  store.changed();
  await s.send(xml("presence", { to: `${jid}/${room.nick}`, type: "unavailable" }));
  await s.iq("set", undefined, xml("pubsub", { xmlns: PUBSUB }, xml("retract", { node: BOOKMARKS, notify: "true" }, xml("item", { id: jid })))).catch(() => {});
}

export async function sendRoomMessage(s: Session, jid: string, body: string): Promise<void> {
  await s.send(xml("message", { to: jid, type: "groupchat", id: crypto.randomUUID() }, xml("body", {}, body)));
}

// XEP-0402 §3: one item per room, private to the account.
async function saveBookmark(s: Session, jid: string, nick: string): Promise<void> {
  await s.iq("set", undefined,
    xml("pubsub", { xmlns: PUBSUB },
      xml("publish", { node: BOOKMARKS },
        xml("item", { id: jid }, xml("conference", { xmlns: BOOKMARKS, autojoin: "true" }, xml("nick", {}, nick)))),
      xml("publish-options", {},
        xml("x", { xmlns: "jabber:x:data", type: "submit" },
          xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, PUBSUB + "#publish-options")),
          xml("field", { var: "pubsub#persist_items" }, xml("value", {}, "true")),
          xml("field", { var: "pubsub#max_items" }, xml("value", {}, "max")),
          xml("field", { var: "pubsub#send_last_published_item" }, xml("value", {}, "never")),
          xml("field", { var: "pubsub#access_model" }, xml("value", {}, "whitelist"))))));
}

// Rooms bookmarked with autojoin, joined again at sign-in.
export async function joinBookmarkedRooms(s: Session): Promise<void> {
  let res: Element;
  try {
    res = await s.iq("get", undefined, xml("pubsub", { xmlns: PUBSUB }, xml("items", { node: BOOKMARKS })));
  } catch {
    return; // no bookmarks yet
  }
  for (const item of res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item") ?? []) {
    const c = item.getChild("conference", BOOKMARKS);
    if (item.attrs.id && c?.attrs.autojoin === "true")
      await joinRoom(s, item.attrs.id, c.getChildText("nick") || s.bare.split("@")[0], false);
  }
}

// The room's configuration form (§10.2), as field → values, and the fields we offer to change.
export const CONFIG_FIELDS = ["muc#roomconfig_roomname", "muc#roomconfig_roomdesc", "muc#roomconfig_publicroom",
  "muc#roomconfig_membersonly", "muc#roomconfig_moderatedroom", "muc#roomconfig_persistentroom"] as const;
export type RoomConfig = Partial<Record<(typeof CONFIG_FIELDS)[number], string>>;

export async function loadRoomConfig(s: Session, jid: string): Promise<RoomConfig> {
  const res = await s.iq("get", jid, xml("query", { xmlns: MUC_OWNER }));
  const out: RoomConfig = {};
  for (const f of res.getChild("query", MUC_OWNER)?.getChild("x", "jabber:x:data")?.getChildren("field") ?? []) {
    const v = f.attrs.var as (typeof CONFIG_FIELDS)[number] | undefined;
    if (v && (CONFIG_FIELDS as readonly string[]).includes(v)) out[v] = f.getChildText("value") ?? "";
  }
  return out;
}

export async function saveRoomConfig(s: Session, jid: string, config: RoomConfig): Promise<void> {
  const x = xml("x", { xmlns: "jabber:x:data", type: "submit" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, MUC + "#roomconfig")));
  for (const [k, v] of Object.entries(config)) if (v !== undefined) x.append(xml("field", { var: k }, xml("value", {}, v)));
  await s.iq("set", jid, xml("query", { xmlns: MUC_OWNER }, x));
}

// §8.2 kick (role none), §8.3–8.4 voice (participant / visitor): by nickname.
export async function setRole(s: Session, jid: string, nick: string, role: "none" | "visitor" | "participant"): Promise<void> {
  await s.iq("set", jid, xml("query", { xmlns: MUC_ADMIN }, xml("item", { nick, role })));
}

// §9.1 ban: by the occupant's real bare JID, which moderators see in semi-anonymous rooms.
export async function ban(s: Session, jid: string, who: string): Promise<void> {
  await s.iq("set", jid, xml("query", { xmlns: MUC_ADMIN }, xml("item", { jid: who, affiliation: "outcast" })));
}

// XEP-0425 §4: a moderator retracts a message by the id the room gave it (its stanza-id).
export async function moderate(s: Session, jid: string, id: string): Promise<void> {
  await s.iq("set", jid, xml("moderate", { xmlns: MODERATE, id }, xml("retract", { xmlns: RETRACT })));
}
