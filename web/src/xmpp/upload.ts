// XEP-0363 HTTP File Upload: a slot from the account's upload service (upload.<domain>, found through
// disco#items with a fallback to that name), the file PUT to it, and its GET URL returned. The upload
// service of Causerie is on the page's own origin, which the CSP allows; a service elsewhere would be
// refused by the CSP and reported as an error.
import { xml } from "@xmpp/client";
import type { Session } from "./session";

const NS = "urn:xmpp:http:upload:0";
const DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";

let service: string | null = null;

export async function uploadService(s: Session): Promise<string> {
  if (service) return service;
  const domain = s.bare.split("@")[1];
  try {
    const items = await s.iq("get", domain, xml("query", { xmlns: DISCO_ITEMS }));
    for (const item of items.getChild("query", DISCO_ITEMS)?.getChildren("item") ?? []) {
      const jid = item.attrs.jid;
      if (!jid) continue;
      const info = await s.iq("get", jid, xml("query", { xmlns: DISCO_INFO })).catch(() => null);
      if (info?.getChild("query", DISCO_INFO)?.getChildren("feature").some((f) => f.attrs.var === NS)) return (service = jid);
    }
  } catch {
    // fall back below
  }
  return (service = "upload." + domain);
}

export function forgetUploadService(): void {
  service = null;
}

export async function uploadFile(s: Session, file: Blob, name: string): Promise<string> {
  const type = file.type || "application/octet-stream";
  const res = await s.iq("get", await uploadService(s),
    xml("request", { xmlns: NS, filename: name, size: String(file.size), "content-type": type }));
  const slot = res.getChild("slot", NS);
  const put = slot?.getChild("put", NS);
  const get = slot?.getChild("get", NS)?.attrs.url;
  if (!put?.attrs.url || !get) throw new Error("no slot");
  const headers: Record<string, string> = { "Content-Type": type };
  // §5: only these headers may be passed on.
  for (const h of put.getChildren("header", NS))
    if (h.attrs.name && ["authorization", "cookie", "expires"].includes(h.attrs.name.toLowerCase())) headers[h.attrs.name] = h.text();
  const r = await fetch(put.attrs.url, { method: "PUT", body: file, headers });
  if (!r.ok) throw new Error(`upload refused: ${r.status}`);
  return get;
}

// URLs the page may load: our own origin's (the CSP allows nothing else).
export function isOwnOrigin(url: string): boolean {
  try {
    return new URL(url).origin === location.origin;
  } catch {
    return false;
  }
}

// Images we can show: our own origin's (the CSP allows nothing else).
export function isShownImage(url: string): boolean {
  try {
    const u = new URL(url);
    return u.origin === location.origin && /\.(png|jpe?g|gif|webp|avif)$/i.test(u.pathname);
  } catch {
    return false;
  }
}
