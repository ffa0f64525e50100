import { useEffect, useState } from "preact/hooks";
import { session } from "../app";
import { formatTime, t, type Key } from "../i18n";
import { useStore, type FeedFilter, type Post } from "../store";
import { deletePost, postKey, publishPost } from "../xmpp/microblog";
import { loadFeedPage, setFeedFilter, shownInFeed } from "../xmpp/feed";
import { like, likeKey, loadLikes } from "../xmpp/likes";
import { isShownImage, uploadFile } from "../xmpp/upload";
import { Avatar } from "./Avatar";
import { Markdown } from "./Markdown";
import { addComment, commentsKey, LIKE, loadComments } from "../xmpp/comments";

function Composer() {
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [audience, setAudience] = useState<"presence" | "open">("presence");
  const [allowComments, setAllowComments] = useState(true);
  const [preview, setPreview] = useState(false);
  const [images, setImages] = useState<Array<{ url: string; type: string }>>([]);
  const [error, setError] = useState("");
  const attach = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    setError("");
    try {
      for (const f of files) {
        const url = await uploadFile(session(), f, f.name);
        setImages((list) => [...list, { url, type: f.type || "application/octet-stream" }]);
      }
    } catch {
      setError(t("uploadFailed"));
    }
  };
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      await publishPost(session(), text, title, audience, allowComments, images);
      setImages([]);
      setText("");
      setTitle("");
      setPreview(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="composer card" onSubmit={submit} aria-label={t("writePost")}>
      <input type="text" placeholder={t("postTitle")} aria-label={t("postTitle")} value={title}
        onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      {preview ? (
        <Markdown class="preview" source={text} />
      ) : (
        <textarea placeholder={t("postText")} aria-label={t("postText")} rows={3} value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      )}
      {images.length > 0 && (
        <div class="row thumbs">{images.map((i) => <img key={i.url} src={i.url} alt={t("picture")} class="thumb" />)}</div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row">
        <label class="button secondary attach">
          {t("addPictures")}
          <input type="file" accept="image/*" multiple class="visually-hidden" aria-label={t("addPictures")} onChange={attach} />
        </label>
        <label>
          {t("audience")}{" "}
          <select value={audience} onChange={(e) => setAudience((e.target as HTMLSelectElement).value as "presence" | "open")}>
            <option value="presence">{t("audienceContacts")}</option>
            <option value="open">{t("audienceEveryone")}</option>
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" checked={allowComments} onChange={(e) => setAllowComments((e.target as HTMLInputElement).checked)} />{" "}
          {t("allowComments")}
        </label>
        <button type="button" class="secondary" aria-pressed={preview} onClick={() => setPreview(!preview)}>
          {preview ? t("edit") : t("preview")}
        </button>
        <button type="submit" disabled={busy || !text.trim()}>{t("publish")}</button>
      </div>
    </form>
  );
}

// A post's likes and comments. Likes are XEP-0470 attachments counted by the server when it offers
// them, else "♥" comments counted here; comments live on the post's XEP-0277 comments node.
function Discussion({ p, me }: { p: Post; me: string }) {
  const st = useStore();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const server = st.feed.attachments;
  const c = p.comments;
  const key = c ? commentsKey(c.service, c.node) : "";
  const all = c ? st.comments.get(key) : undefined;
  useEffect(() => {
    if (c && !all) void loadComments(session(), c.service, c.node).catch(() => st.comments.set(key, []));
  }, [key]);
  const lk = likeKey(p);
  useEffect(() => {
    if (server) void loadLikes(session(), p).catch(() => {});
  }, [server, lk]);
  const hearts = (all ?? []).filter((x) => x.text === LIKE);
  const comments = (all ?? []).filter((x) => x.text !== LIKE);
  const liked = hearts.some((x) => x.publisher === me) || (server && st.liked.has(lk));
  const count = server ? st.likes.get(lk) ?? 0 : hearts.length;
  const doLike = () => {
    if (server) void like(session(), p);
    else if (c) void addComment(session(), c.service, c.node, LIKE);
  };
  const send = async (e: Event) => {
    e.preventDefault();
    if (!text.trim() || !c) return;
    await addComment(session(), c.service, c.node, text.trim());
    setText("");
  };
  return (
    <div class="discussion">
      <div class="row">
        <button class="secondary like" aria-pressed={liked} disabled={liked} title={t("like")} onClick={doLike}>
          {LIKE} <span class="count">{count}</span><span class="visually-hidden"> {t("likes")}</span>
        </button>
        {c && (
          <button class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
            {t("comments")} (<span class="count">{comments.length}</span>)
          </button>
        )}
      </div>
      {open && c && (
        <div>
          <ul class="comments">
            {comments.map((x) => (
              <li key={x.id}><strong>{x.authorName}</strong> <span class="muted small">{formatTime(x.published)}</span><p>{x.text}</p></li>
            ))}
          </ul>
          <form class="row" onSubmit={send}>
            <input class="grow" type="text" aria-label={t("writeComment")} placeholder={t("writeComment")} value={text}
              onInput={(e) => setText((e.target as HTMLInputElement).value)} />
            <button type="submit">{t("send")}</button>
          </form>
        </div>
      )}
    </div>
  );
}

export function PostCard({ p, mine, me }: { p: Post; mine: boolean; me: string }) {
  const st = useStore();
  return (
    <article class="post card" data-post-id={p.id}>
      <header>
        <Avatar jid={p.owner} size={32} />
        <a class="author" href={"#/profile/" + encodeURIComponent(p.owner)}>
          <strong>{st.profiles.get(p.owner)?.fn || p.authorName}</strong>
        </a>{" "}
        <span class="muted">{p.owner}</span>
        {p.community && (
          <span class="muted">
            {" "}{t("inCommunity")}{" "}
            <a href={`#/community/${encodeURIComponent(p.community.service)}/${encodeURIComponent(p.community.node)}`}>
              {st.communities.get(p.community.service + " " + p.community.node)?.title ?? p.community.node}
            </a>
          </span>
        )}
        <time class="muted" dateTime={new Date(p.published).toISOString()}>{formatTime(p.published)}</time>
        {p.access !== "unknown" && (
          <span class="badge">{p.access === "open" ? t("visibleEveryone") : t("visibleContacts")}</span>
        )}
      </header>
      {p.title && p.title !== p.content.split("\n")[0].slice(0, 80) && <h3>{p.title}</h3>}
      <Markdown class="content" source={p.content} />
      {p.images && (
        <div class="row thumbs">
          {p.images.map((src) => isShownImage(src) ? <a key={src} href={src}><img class="shared" src={src} alt={t("picture")} /></a>
            : <a key={src} href={src} rel="noopener noreferrer nofollow">{src}</a>)}
        </div>
      )}
      {(p.comments || st.feed.attachments) && <Discussion p={p} me={me} />}
      {mine && (
        <button class="link" onClick={() => void deletePost(session(), p.id)}>{t("delete")}</button>
      )}
    </article>
  );
}

const filters: Array<[FeedFilter, Key]> = [
  ["all", "filterAll"],
  ["people", "filterPeople"],
  ["communities", "filterCommunities"],
  ["mentions", "filterMentions"],
];

export function Feed() {
  const st = useStore();
  const me = st.me ?? "";
  const f = st.feed;
  const posts = [...st.posts.values()].filter((p) => !f.server || shownInFeed(p, f.filter, me))
    .sort((a, b) => b.published - a.published);
  return (
    <section aria-label={t("feed")} aria-busy={f.loading}>
      <Composer />
      {f.server && (
        <div class="row filters" role="group" aria-label={t("feedFilters")}>
          {filters.map(([v, k]) => (
            <button key={v} type="button" class={f.filter === v ? "" : "secondary"} aria-pressed={f.filter === v}
              onClick={() => void setFeedFilter(session(), v)}>{t(k)}</button>
          ))}
        </div>
      )}
      {posts.length === 0 && !f.loading && <p class="muted">{t("noPosts")}</p>}
      {posts.map((p) => <PostCard key={postKey(p)} p={p} mine={p.owner === me && !p.community} me={me} />)}
      {f.server && !f.complete && f.last && (
        <button type="button" class="secondary more" disabled={f.loading} onClick={() => void loadFeedPage(session(), true)}>
          {t("morePosts")}
        </button>
      )}
    </section>
  );
}
