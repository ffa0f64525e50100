// Profiles: XEP-0292 vCard4 over PEP (full name, nickname, note as the bio) and XEP-0084 avatars (the
// metadata node says which image is current; the data node holds it, base64). Read from anyone's PEP
// (contacts by default: both nodes default to the `presence` access model), updated live from
// notifications, and written for ourselves. The banner is Movim's: a XEP-0084 metadata element on the PEP
// node urn:xmpp:movim-banner:0 whose <info/> carries the picture's URL (uploaded with XEP-0363), so Movim
// and this app show each other's banners.
import { xml, type Element } from "@xmpp/client";
import { bareOf, type Session } from "./session";
import { isShownImage, uploadFile } from "./upload";
import { store, type Profile } from "../store";

export const VCARD4_NODE = "urn:xmpp:vcard4";
const VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0";
export const AVATAR_META = "urn:xmpp:avatar:metadata";
const AVATAR_DATA = "urn:xmpp:avatar:data";
export const BANNER_NODE = "urn:xmpp:movim-banner:0";
const PUBSUB = "http://jabber.org/protocol/pubsub";
const EVENT = "http://jabber.org/protocol/pubsub#event";

function profileOf(jid: string): Profile {
  let p = store.state.profiles.get(jid);
  if (!p) {
    p = { fn: "", nickname: "", note: "" };
    store.state.profiles.set(jid, p);
  }
  return p;
}

function applyVcard(jid: string, vcard: Element | undefined): void {
  if (!vcard) return;
  const p = profileOf(jid);
  const text = (name: string) => vcard.getChild(name, VCARD4)?.getChildText("text", VCARD4) ?? "";
  p.fn = text("fn");
  p.nickname = text("nickname");
  p.note = text("note");
}

async function fetchItems(s: Session, jid: string, node: string, id?: string): Promise<Element[]> {
  const items = xml("items", { node, max_items: id ? undefined : "1" }, id ? xml("item", { id }) : null);
  const res = await s.iq("get", jid, xml("pubsub", { xmlns: PUBSUB }, items));
  return res.getChild("pubsub", PUBSUB)?.getChild("items")?.getChildren("item") ?? [];
}

async function loadAvatar(s: Session, jid: string, id: string, type: string): Promise<void> {
  const p = profileOf(jid);
  if (p.avatarId === id) return;
  const [item] = await fetchItems(s, jid, AVATAR_DATA, id);
  const b64 = item?.getChildText("data", AVATAR_DATA);
  if (!b64) return;
  const bin = atob(b64.replace(/\s+/g, ""));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  if (p.avatar) URL.revokeObjectURL(p.avatar);
  p.avatar = URL.createObjectURL(new Blob([bytes], { type: type || "image/png" }));
  p.avatarId = id;
  store.changed();
}

function applyMetadata(s: Session, jid: string, meta: Element | undefined): void {
  const info = meta?.getChild("info", AVATAR_META);
  if (!meta) return;
  if (!info?.attrs.id) {
    const p = profileOf(jid); // an empty metadata element: no avatar (XEP-0084 §4.2)
    if (p.avatar) URL.revokeObjectURL(p.avatar);
    p.avatar = p.avatarId = undefined;
    store.changed();
    return;
  }
  void loadAvatar(s, jid, info.attrs.id, info.attrs.type ?? "").catch(() => {});
}

// A banner is shown only from our own origin (the page's CSP allows nothing else); an empty metadata
// element, or a retraction, removes it.
function applyBanner(jid: string, meta: Element | undefined): void {
  const url = meta?.getChild("info", AVATAR_META)?.attrs.url;
  profileOf(jid).banner = url && isShownImage(url) ? url : undefined;
}

export function startProfiles(s: Session): void {
  s.onStanza((el) => {
    if (el.name !== "message") return;
    const items = el.getChild("event", EVENT)?.getChild("items");
    const jid = bareOf(el.attrs.from ?? "");
    if (!items || !jid) return;
    const item = items.getChildren("item")[0];
    if (items.attrs.node === VCARD4_NODE) {
      applyVcard(jid, item?.getChild("vcard", VCARD4));
      store.changed();
    } else if (items.attrs.node === AVATAR_META) {
      applyMetadata(s, jid, item?.getChild("metadata", AVATAR_META));
    } else if (items.attrs.node === BANNER_NODE) {
      applyBanner(jid, item?.getChild("metadata", AVATAR_META));
      store.changed();
    }
  });
}

export async function loadProfile(s: Session, jid: string): Promise<void> {
  profileOf(jid);
  await Promise.all([
    fetchItems(s, jid, VCARD4_NODE).then((items) => applyVcard(jid, items[0]?.getChild("vcard", VCARD4))).catch(() => {}),
    fetchItems(s, jid, AVATAR_META).then((items) => applyMetadata(s, jid, items[0]?.getChild("metadata", AVATAR_META))).catch(() => {}),
    fetchItems(s, jid, BANNER_NODE).then((items) => applyBanner(jid, items[0]?.getChild("metadata", AVATAR_META))).catch(() => {}),
  ]);
  store.changed();
}

export async function saveProfile(s: Session, fn: string, nickname: string, note: string): Promise<void> {
  const prop = (name: string, v: string) => (v ? xml(name, {}, xml("text", {}, v)) : null);
  const vcard = xml("vcard", { xmlns: VCARD4 }, prop("fn", fn), prop("nickname", nickname), prop("note", note),
    xml("impp", {}, xml("uri", {}, "xmpp:" + s.bare)));
  await s.iq("set", undefined, xml("pubsub", { xmlns: PUBSUB }, xml("publish", { node: VCARD4_NODE }, xml("item", { id: "current" }, vcard))));
  applyVcard(s.bare, vcard);
  store.changed();
}

async function sha1Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes as BufferSource));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// A picture the user chose, scaled to at most 256×256 PNG in the page, published as data then metadata
// (XEP-0084 §4.1: the id is the SHA-1 of the image).
export async function saveAvatar(s: Session, file: Blob): Promise<void> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 256 / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext("2d")!.drawImage(bitmap, 0, 0, w, h);
  const png = new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
  const id = await sha1Hex(png);
  let bin = "";
  for (const b of png) bin += String.fromCharCode(b);
  await s.iq("set", undefined, xml("pubsub", { xmlns: PUBSUB },
    xml("publish", { node: AVATAR_DATA }, xml("item", { id }, xml("data", { xmlns: AVATAR_DATA }, btoa(bin))))));
  await s.iq("set", undefined, xml("pubsub", { xmlns: PUBSUB },
    xml("publish", { node: AVATAR_META }, xml("item", { id },
      xml("metadata", { xmlns: AVATAR_META }, xml("info", { id, type: "image/png", bytes: String(png.length), width: String(w), height: String(h) }))))));
  await loadAvatar(s, s.bare, id, "image/png");
}

// A banner the user chose: uploaded as it is (XEP-0363), then its metadata published where Movim looks
// for it, with the picture's size and SHA-1 as XEP-0084 §4.2 describes them.
export async function saveBanner(s: Session, file: File): Promise<void> {
  const bitmap = await createImageBitmap(file);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const id = await sha1Hex(bytes);
  const url = await uploadFile(s, file, file.name || "banner.png");
  const info = xml("info", { id, url, type: file.type || "image/png", bytes: String(bytes.length),
    width: String(bitmap.width), height: String(bitmap.height) });
  await s.iq("set", undefined, xml("pubsub", { xmlns: PUBSUB },
    xml("publish", { node: BANNER_NODE }, xml("item", { id }, xml("metadata", { xmlns: AVATAR_META }, info)))));
  applyBanner(s.bare, xml("metadata", { xmlns: AVATAR_META }, info));
  store.changed();
}
