// XEP-0115 entity capabilities of the web app: what we tell PEP services we want (`+notify`, XEP-0163 §4).
import { MICROBLOG } from "./microblog";

export const CAPS_NODE = "https://causerie.im/web";
export const IDENTITY = { category: "client", type: "web", name: "Causerie web" };
export const FEATURES = [
  "http://jabber.org/protocol/caps",
  "http://jabber.org/protocol/disco#info",
  "urn:xmpp:receipts",
  "urn:xmpp:chat-markers:0",
  "http://jabber.org/protocol/chatstates",
  "urn:xmpp:ping",
  "urn:xmpp:message-correct:0",
  "urn:xmpp:reply:0",
  "urn:xmpp:reactions:0",
  MICROBLOG,
  MICROBLOG + "+notify",
  // XEP-0470 summaries of microblog posts, so like counts update live.
  "urn:xmpp:pubsub-attachments:summary:1/" + MICROBLOG + "+notify",
  "urn:xmpp:vcard4+notify",
  "urn:xmpp:avatar:metadata+notify",
  "urn:xmpp:movim-banner:0+notify",
].sort();

// XEP-0115 §5.1 verification string, SHA-1, base64.
export async function capsVer(): Promise<string> {
  let s = `${IDENTITY.category}/${IDENTITY.type}//${IDENTITY.name}<`;
  for (const f of FEATURES) s += f + "<";
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(s)));
  let bin = "";
  for (const b of digest) bin += String.fromCharCode(b);
  return btoa(bin);
}
