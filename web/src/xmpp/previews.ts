// Link previews from the server (urn:causerie:preview:0, docs/protocol/previews.md): the page's title,
// description, site name and picture, fetched by the server, so the browser never contacts the linked
// site; the picture comes through the server's /proxy/image on the page's own origin. Asked once per URL
// per session; offered only when our domain's disco#info lists the feature (not on Prosody, say).
import { xml } from "@xmpp/client";
import type { Session } from "./session";
import { store } from "../store";
import { isOwnOrigin } from "./upload";

export const PREVIEW = "urn:causerie:preview:0";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";

export async function detectPreviews(s: Session): Promise<void> {
  try {
    const res = await s.iq("get", s.bare.split("@")[1], xml("query", { xmlns: DISCO_INFO }));
    store.state.previewService = (res.getChild("query", DISCO_INFO)?.getChildren("feature") ?? []).some((f) => f.attrs.var === PREVIEW);
  } catch {
    store.state.previewService = false;
  }
  store.changed();
}

// The first http(s) link of a text, without the punctuation that usually ends a sentence after it.
export function firstLink(text: string): string | null {
  const m = text.match(/https?:\/\/[^\s<>"'`]+/);
  if (!m) return null;
  const url = m[0].replace(/[.,;:!?)\]]+$/, "");
  try {
    return new URL(url).href;
  } catch {
    return null;
  }
}

export async function loadPreview(s: Session, url: string): Promise<void> {
  const st = store.state;
  if (!st.previewService || st.previews.has(url)) return;
  st.previews.set(url, null);
  try {
    const res = await s.iq("get", s.bare.split("@")[1], xml("preview", { xmlns: PREVIEW, url }));
    const p = res.getChild("preview", PREVIEW);
    if (!p || store.state !== st) return;
    const image = p.getChild("image")?.attrs.url;
    const title = p.getChildText("title") ?? "";
    const description = p.getChildText("description") ?? "";
    if (!title && !description && !image) return;
    st.previews.set(url, {
      url: p.attrs["final-url"] ?? url, title, description, siteName: p.getChildText("site-name") ?? "",
      image: image && isOwnOrigin(image) ? image : undefined,
    });
    store.changed();
  } catch {
    // No preview for this page (refused, unreachable, not HTML): the link alone.
  }
}
