// The account itself over XEP-0077: changing the password (§3.3) and deleting the account (§3.2).
import { xml } from "@xmpp/client";
import type { Session } from "./session";

const NS = "jabber:iq:register";

export async function changePassword(s: Session, password: string): Promise<void> {
  const [user, domain] = s.bare.split("@");
  await s.iq("set", domain, xml("query", { xmlns: NS }, xml("username", {}, user), xml("password", {}, password)));
}

// Causerie's own XEP-0050 command (src/modules/sign_out_everywhere.cpp): every FAST token of the account
// revoked, its other sessions ended. Servers without it answer an error, which the caller shows.
export async function signOutEverywhere(s: Session): Promise<void> {
  const res = await s.iq("set", s.bare.split("@")[1],
    xml("command", { xmlns: "http://jabber.org/protocol/commands", node: "urn:causerie:account#sign-out-everywhere", action: "execute" }));
  if (res.getChild("command")?.attrs.status !== "completed") throw new Error("not completed");
}

export async function deleteAccount(s: Session): Promise<void> {
  await s.iq("set", s.bare.split("@")[1], xml("query", { xmlns: NS }, xml("remove")));
}

export type DownloadError = "wrong-password" | "https-only" | "too-many" | "failed";

// The account's own data as its XEP-0227 document (docs/FEATURES.md, XEP-0227 row): `GET /account/export`
// on this origin, which the server answers over HTTPS only, with HTTP Basic. The app keeps no password,
// so the user gives it again; `credentials: "omit"` keeps it out of the browser's authentication cache.
export async function downloadData(jid: string, password: string): Promise<Blob> {
  const bytes = new TextEncoder().encode(jid + ":" + password);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  const r = await fetch("/account/export", { headers: { Authorization: "Basic " + btoa(bin) }, credentials: "omit", cache: "no-store" });
  if (r.ok) return r.blob();
  const why: DownloadError = r.status === 401 ? "wrong-password" : r.status === 403 ? "https-only" : r.status === 429 ? "too-many" : "failed";
  throw new Error(why);
}
