// Web Push from Causerie (`urn:causerie:webpush:0`, docs/protocol/webpush.md): this browser's push
// subscription (PushManager, with the server's VAPID public key as applicationServerKey) registered with
// the server together with the kinds of notification the user wants; saving again with the same endpoint
// changes the kinds, saving none removes the subscription. The service worker (sw.ts) shows what arrives.
import { xml, type Element } from "@xmpp/client";
import type { Session } from "./session";
import { registration } from "../sw_registration";

const NS = "urn:causerie:webpush:0";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";

export const PUSH_KINDS = ["messages", "mentions", "comments", "likes", "followers"] as const;
export type PushKind = (typeof PUSH_KINDS)[number];

export interface PushState {
  available: boolean; // the server offers it and the browser has service workers and PushManager
  kinds: PushKind[]; // enabled for this browser, as the server lists them
  id?: string; // the server's id of this browser's subscription
}

function b64url(bytes: ArrayBuffer | null): string {
  if (!bytes) return "";
  let bin = "";
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function kindsOf(el: Element): PushKind[] {
  const all = el.getChildren("kind").map((k) => k.text());
  // No <kind/> means every kind (docs/protocol/webpush.md).
  return all.length ? PUSH_KINDS.filter((k) => all.includes(k)) : [...PUSH_KINDS];
}

// The active worker's registration (pushManager.subscribe needs one that is active).
async function activeRegistration(): Promise<ServiceWorkerRegistration> {
  if (!(await registration)) throw new Error("no service worker");
  return navigator.serviceWorker.ready;
}

async function browserSubscription(): Promise<PushSubscription | null> {
  return (await activeRegistration()).pushManager.getSubscription();
}

export async function loadPush(s: Session): Promise<PushState> {
  if (!(await registration) || typeof PushManager === "undefined") return { available: false, kinds: [] };
  try {
    const info = await s.iq("get", s.bare, xml("query", { xmlns: DISCO_INFO }));
    if (!info.getChild("query", DISCO_INFO)?.getChildren("feature").some((f) => f.attrs.var === NS)) return { available: false, kinds: [] };
  } catch {
    return { available: false, kinds: [] };
  }
  const mine = await browserSubscription();
  if (!mine) return { available: true, kinds: [] };
  const res = await s.iq("get", undefined, xml("subscriptions", { xmlns: NS }));
  const sub = res.getChild("subscriptions", NS)?.getChildren("subscription").find((x) => x.attrs.endpoint === mine.endpoint);
  return sub ? { available: true, kinds: kindsOf(sub), id: sub.attrs.id } : { available: true, kinds: [] };
}

// Saves the kinds wanted in this browser; the answer is the server's view of them.
export async function savePush(s: Session, kinds: PushKind[], current: PushState): Promise<PushState> {
  if (kinds.length === 0) {
    if (current.id) await s.iq("set", undefined, xml("unsubscribe", { xmlns: NS, id: current.id }));
    await (await browserSubscription())?.unsubscribe().catch(() => false);
    return { available: true, kinds: [] };
  }
  if ((await Notification.requestPermission()) !== "granted") throw new Error("permission");
  const vapid = (await s.iq("get", undefined, xml("vapid", { xmlns: NS }))).getChild("vapid", NS)?.attrs["public-key"];
  if (!vapid) throw new Error("no key");
  const reg = await activeRegistration();
  const sub = (await reg.pushManager.getSubscription()) ??
    (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(vapid) as BufferSource }));
  const res = await s.iq("set", undefined, xml("subscribe",
    { xmlns: NS, endpoint: sub.endpoint, p256dh: b64url(sub.getKey("p256dh")), auth: b64url(sub.getKey("auth")) },
    ...kinds.map((k) => xml("kind", {}, k))));
  const saved = res.getChild("subscription", NS);
  if (!saved) throw new Error("no answer");
  return { available: true, kinds: kindsOf(saved), id: saved.attrs.id };
}
