// The account itself over XEP-0077: changing the password (§3.3) and deleting the account (§3.2).
import { xml } from "@xmpp/client";
import type { Session } from "./session";

const NS = "jabber:iq:register";

export async function changePassword(s: Session, password: string): Promise<void> {
  const [user, domain] = s.bare.split("@");
  await s.iq("set", domain, xml("query", { xmlns: NS }, xml("username", {}, user), xml("password", {}, password)));
}

export async function deleteAccount(s: Session): Promise<void> {
  await s.iq("set", s.bare.split("@")[1], xml("query", { xmlns: NS }, xml("remove")));
}
