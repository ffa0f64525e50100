import { useState } from "preact/hooks";
import { session } from "../app";
import { formatTime, t } from "../i18n";
import { useStore, type Post } from "../store";
import { deletePost, publishPost } from "../xmpp/microblog";

function Composer() {
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [audience, setAudience] = useState<"presence" | "open">("presence");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      await publishPost(session(), text, title, audience);
      setText("");
      setTitle("");
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="composer card" onSubmit={submit} aria-label={t("writePost")}>
      <input type="text" placeholder={t("postTitle")} aria-label={t("postTitle")} value={title}
        onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      <textarea placeholder={t("postText")} aria-label={t("postText")} rows={3} value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      <div class="row">
        <label>
          {t("audience")}{" "}
          <select value={audience} onChange={(e) => setAudience((e.target as HTMLSelectElement).value as "presence" | "open")}>
            <option value="presence">{t("audienceContacts")}</option>
            <option value="open">{t("audienceEveryone")}</option>
          </select>
        </label>
        <button type="submit" disabled={busy || !text.trim()}>{t("publish")}</button>
      </div>
    </form>
  );
}

function PostCard({ p, mine }: { p: Post; mine: boolean }) {
  return (
    <article class="post card" data-post-id={p.id}>
      <header>
        <strong>{p.authorName}</strong> <span class="muted">{p.owner}</span>
        <time class="muted" dateTime={new Date(p.published).toISOString()}>{formatTime(p.published)}</time>
        {p.access !== "unknown" && (
          <span class="badge">{p.access === "open" ? t("visibleEveryone") : t("visibleContacts")}</span>
        )}
      </header>
      {p.title && p.title !== p.content.split("\n")[0].slice(0, 80) && <h3>{p.title}</h3>}
      <p class="content">{p.content}</p>
      {mine && (
        <button class="link" onClick={() => void deletePost(session(), p.id)}>{t("delete")}</button>
      )}
    </article>
  );
}

export function Feed() {
  const st = useStore();
  const posts = [...st.posts.values()].sort((a, b) => b.published - a.published);
  return (
    <section aria-label={t("feed")}>
      <Composer />
      {posts.length === 0 && <p class="muted">{t("noPosts")}</p>}
      {posts.map((p) => <PostCard key={p.owner + p.id} p={p} mine={p.owner === st.me} />)}
    </section>
  );
}
