import { useEffect } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore } from "../store";
import { firstLink, loadPreview } from "../xmpp/previews";

// The preview of the first link of a post or message, as the server made it; nothing while it is
// asked for or when there is none.
export function LinkPreviewCard({ text }: { text: string }) {
  const st = useStore();
  const url = firstLink(text);
  useEffect(() => {
    if (url && st.previewService) void loadPreview(session(), url);
  }, [url, st.previewService]);
  const p = url ? st.previews.get(url) : null;
  if (!url || !p) return null;
  return (
    <a class="link-preview" href={url} target="_blank" rel="noopener noreferrer nofollow">
      {p.image && <img src={p.image} alt="" />}
      <span class="text">
        <span class="visually-hidden">{t("linkPreview")}: </span>
        {p.siteName && <span class="muted small">{p.siteName}</span>}
        {p.title && <strong>{p.title}</strong>}
        {p.description && <span class="small">{p.description}</span>}
      </span>
    </a>
  );
}
