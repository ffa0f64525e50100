// Pictures of posts: uploaded through XEP-0363, then described by the upload service's media iq
// (urn:causerie:media:0, docs/protocol/media.md: it answers once the thumbnail, the web-sized copy and the
// BlurHash are made). In an Atom entry a picture is an enclosure link (RFC 4287 §4.2.7.2) followed by its
// XEP-0264 thumbnail as a sibling, the BlurHash carried as an attribute in the media namespace (XEP-0264
// has no place for it). Entries of other clients — enclosures without thumbnails — read as plain pictures.
import { xml, type Element } from "@xmpp/client";
import type { Session } from "./session";
import { uploadFile, uploadService } from "./upload";
import type { Picture } from "../store";

export const MEDIA = "urn:causerie:media:0";
const THUMBS = "urn:xmpp:thumbs:1";

function num(v: string | undefined): number | undefined {
  const n = Number(v);
  return v && Number.isFinite(n) && n > 0 ? n : undefined;
}

// A XEP-0264 <thumbnail/> as a picture's thumb (the callers have checked that it has a uri).
function thumbOf(th: Element): NonNullable<Picture["thumb"]> {
  return { url: th.attrs.uri as string, width: num(th.attrs.width), height: num(th.attrs.height) };
}

// Uploads a file; a picture is described by the media service when the upload service offers it (a
// server without it, or a file that is no picture, gives the original alone).
export async function uploadPicture(s: Session, file: File): Promise<Picture> {
  const url = await uploadFile(s, file, file.name);
  const pic: Picture = { url, type: file.type || "application/octet-stream" };
  try {
    const res = await s.iq("get", await uploadService(s), xml("media", { xmlns: MEDIA, url }));
    const m = res.getChild("media", MEDIA);
    if (!m) return pic;
    pic.type = m.attrs["media-type"] ?? pic.type;
    pic.width = num(m.attrs.width);
    pic.height = num(m.attrs.height);
    pic.blurhash = m.attrs.blurhash;
    const th = m.getChild("thumb")?.getChild("thumbnail", THUMBS);
    if (th?.attrs.uri) pic.thumb = thumbOf(th);
  } catch {
    // No media service, not a picture, or its processing failed: the original alone.
  }
  return pic;
}

// A picture's XEP-0264 thumbnail element, its BlurHash as an attribute in the media namespace.
function thumbnailOf(p: Picture, thumb: NonNullable<Picture["thumb"]>): Element {
  const attrs: Record<string, string> = { xmlns: THUMBS, uri: thumb.url, "media-type": p.type.startsWith("image/png") ? "image/png" : "image/jpeg" };
  if (thumb.width) attrs.width = String(thumb.width);
  if (thumb.height) attrs.height = String(thumb.height);
  if (p.blurhash) {
    attrs["xmlns:media"] = MEDIA;
    attrs["media:blurhash"] = p.blurhash;
  }
  return xml("thumbnail", attrs);
}

// The Atom elements of a picture: the enclosure and, when there is one, its thumbnail.
export function pictureLinks(p: Picture): Element[] {
  const out = [xml("link", { rel: "enclosure", href: p.url, type: p.type })];
  if (p.thumb) out.push(thumbnailOf(p, p.thumb));
  return out;
}

const SFS = "urn:xmpp:sfs:0";
const FILE_METADATA = "urn:xmpp:file:metadata:0";
const URL_DATA = "http://jabber.org/protocol/url-data";

// A picture shared in a chat message (XEP-0447 stateless file sharing): its XEP-0446 metadata with the
// thumbnail (and BlurHash) and the URL it is at, shown inline.
export function fileSharing(p: Picture): Element {
  return xml("file-sharing", { xmlns: SFS, disposition: "inline" },
    xml("file", { xmlns: FILE_METADATA },
      xml("media-type", {}, p.type),
      p.width ? xml("width", {}, String(p.width)) : undefined,
      p.height ? xml("height", {}, String(p.height)) : undefined,
      p.thumb ? thumbnailOf(p, p.thumb) : undefined),
    xml("sources", {}, xml("url-data", { xmlns: URL_DATA, target: p.url })));
}

// The picture a message shares by XEP-0447 (the first http(s) source of an image), if any.
export function sharedPicture(msg: Element): Picture | undefined {
  const fs = msg.getChild("file-sharing", SFS);
  const file = fs?.getChild("file", FILE_METADATA);
  const type = file?.getChildText("media-type") ?? "";
  const url = fs?.getChild("sources")?.getChildren("url-data", URL_DATA).map((u) => u.attrs.target as string)
    .find((u) => /^https?:\/\//i.test(u ?? ""));
  if (!file || !url || !type.startsWith("image/")) return undefined;
  const pic: Picture = { url, type, width: num(file.getChildText("width") ?? undefined), height: num(file.getChildText("height") ?? undefined) };
  const th = file.getChild("thumbnail", THUMBS);
  if (th?.attrs.uri) {
    pic.thumb = thumbOf(th);
    pic.blurhash = blurhashOf(th);
  }
  return pic;
}

// The BlurHash attribute whatever prefix the publisher bound the media namespace to.
function blurhashOf(th: Element): string | undefined {
  for (const [name, value] of Object.entries(th.attrs)) {
    const i = name.indexOf(":");
    if (i > 0 && name.slice(i + 1) === "blurhash" && findNs(th, name.slice(0, i)) === MEDIA)
      return value;
  }
  return undefined;
}

function findNs(el: Element, prefix: string): string | undefined {
  for (let e: Element | null = el; e; e = e.parent) if (e.attrs["xmlns:" + prefix]) return e.attrs["xmlns:" + prefix];
  return undefined;
}

// The pictures of an Atom entry: its image enclosures, each with the thumbnail that follows it.
export function picturesOf(entry: Element): Picture[] {
  const out: Picture[] = [];
  let last: Picture | null = null;
  for (const c of entry.children) {
    if (typeof c === "string") continue;
    if (c.name === "link" && c.attrs.rel === "enclosure" && c.attrs.href && (c.attrs.type ?? "").startsWith("image/")) {
      last = { url: c.attrs.href, type: c.attrs.type! };
      out.push(last);
    } else if (c.name === "link") {
      last = null;
    } else if (c.name === "thumbnail" && c.getNS() === THUMBS && last && c.attrs.uri && !last.thumb) {
      last.thumb = thumbOf(c);
      last.blurhash = blurhashOf(c);
    }
  }
  return out;
}
