import { useEffect, useRef, useState } from "preact/hooks";
import { session } from "../app";
import { decodeBlurhash } from "../blurhash";
import { t } from "../i18n";
import { type Picture, useStore } from "../store";
import { loadPreview } from "../xmpp/previews";
import { isOwnOrigin, isShownImage } from "../xmpp/upload";

// A picture shown by its thumbnail (the server's XEP-0264 copy, at most 320 px) with its BlurHash drawn
// underneath until the thumbnail has loaded; it links to the original. A picture from another origin
// (another server's upload, another site) cannot be loaded under the page's CSP, and should not be
// (the browser would tell that site who reads the post): our server's link preview of it gives it back
// through its image proxy, on our origin. Without that service, or past its rate, it is a link.
export function PictureThumb({ p, alt, class: cls, lazy }: { p: Picture; alt?: string; class?: string; lazy?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [loaded, setLoaded] = useState(false);
  const st = useStore();
  const own = p.thumb && isOwnOrigin(p.thumb.url) ? p.thumb.url : isShownImage(p.url) ? p.url : "";
  // Another origin's picture: the smaller copy where the post names one. (Ours we never ask the proxy for.)
  const remote = own || isOwnOrigin(p.url) ? "" : p.thumb?.url ?? p.url;
  const remoteOk = /^https?:\/\//i.test(remote);
  useEffect(() => {
    if (remoteOk && st.previewService) void loadPreview(session(), remote);
  }, [remote, remoteOk, st.previewService]);
  const src = own || (remoteOk ? st.previews.get(remote)?.image ?? "" : "");
  const w = p.thumb?.width ?? p.width;
  const h = p.thumb?.height ?? p.height;
  useEffect(() => {
    const c = canvas.current;
    if (!c || !p.blurhash) return;
    const px = decodeBlurhash(p.blurhash, 32, 32);
    const ctx = c.getContext("2d");
    if (px && ctx) ctx.putImageData(new ImageData(px, 32, 32), 0, 0);
  }, [p.blurhash]);
  if (!src) return <a href={p.url} rel="noopener noreferrer nofollow">{p.url}</a>;
  return (
    <a class={"picture " + (cls ?? "")} href={p.url} target="_blank" rel="noopener noreferrer">
      {p.blurhash && !loaded && <canvas ref={canvas} class="blurhash" width={32} height={32} aria-hidden="true" />}
      <img class="shared" src={src} alt={alt || t("picture")} width={w} height={h} loading={lazy ? "lazy" : undefined} onLoad={() => setLoaded(true)} />
    </a>
  );
}
