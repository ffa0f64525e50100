// Roster groups (RFC 6121 §2.1.2.5), the audiences of posts meant for some contacts only: the groups in
// use, and putting a contact in or out of one by a roster set (§2.3: the item sent whole, its name and
// other groups kept); the roster push that follows updates the store (roster.ts).
import { xml } from "@xmpp/client";
import type { Session } from "./session";
import { store } from "../store";

const ROSTER = "jabber:iq:roster";

export function rosterGroups(): string[] {
  const all = new Set<string>();
  for (const c of store.state.contacts.values()) for (const g of c.groups) all.add(g);
  return [...all].sort((a, b) => a.localeCompare(b));
}

export async function setInGroup(s: Session, jid: string, group: string, member: boolean): Promise<void> {
  const c = store.state.contacts.get(jid);
  if (!c) return;
  const groups = c.groups.filter((g) => g !== group);
  if (member) groups.push(group);
  await s.iq("set", undefined, xml("query", { xmlns: ROSTER },
    xml("item", { jid, name: c.name || undefined }, ...groups.map((g) => xml("group", {}, g)))));
}
