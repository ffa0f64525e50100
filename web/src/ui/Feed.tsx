import { useEffect, useState } from "preact/hooks";
import { session } from "../app";
import { formatTime, t, type Key } from "../i18n";
import { useStore, type FeedFilter, type Post } from "../store";
import { deletePost, postKey } from "../xmpp/microblog";
import { loadFeedPage, setFeedFilter, shownInFeed } from "../xmpp/feed";
import { like, likeKey, loadLikes } from "../xmpp/likes";
import { Avatar } from "./Avatar";
import { Markdown } from "./Markdown";
import { Composer } from "./Composer";
import { PictureThumb } from "./PictureThumb";
import { LinkPreviewCard } from "./LinkPreviewCard";
import { splitHashtags, tagHref } from "../hashtags";
import { addComment, commentsKey, LIKE, loadComments } from "../xmpp/comments";

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

// The categories of a post that its text does not already show as #words (another client's tags).
function extraTags(p: Post): string[] {
  const shown = new Set(splitHashtags(p.title + "\n" + p.content).filter((x) => x.tag).map((x) => x.tag!.toLowerCase()));
  return (p.tags ?? []).filter((tg) => !shown.has(tg.toLowerCase().replace(/^#/, "")));
}

function audienceBadge(p: Post): string | null {
  if (p.access === "open") return t("visibleEveryone");
  if (p.access === "presence") return t("visibleContacts");
  if (p.access === "roster") return p.groups?.length ? `${t("visibleGroups")} ${p.groups.join(", ")}` : t("visibleOnlyMe");
  return null;
}

// Edit (for its author) and Delete after a confirmation under a post: ours, or a community's post, which
// the node's owners and publishers may delete too (XEP-0060 §7.2; the service refuses anyone else).
export function PostActions({ p, canEdit, onEdit }: { p: Post; canEdit: boolean; onEdit: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState("");
  const remove = () => void deletePost(session(), p).catch(() => {
    setConfirming(false);
    setError(t("deleteFailed"));
  });
  return (
    <div class="row" role="group" aria-label={t("postActions")}>
      {canEdit && <button type="button" class="link" onClick={onEdit}>{t("editPost")}</button>}
      {confirming ? (
        <>
          <span role="alert">{t("deletePostConfirm")}</span>
          <button type="button" class="link danger" onClick={remove}>{t("delete")}</button>
          <button type="button" class="link" onClick={() => setConfirming(false)}>{t("cancel")}</button>
        </>
      ) : (
        <button type="button" class="link" onClick={() => setConfirming(true)}>{t("deletePost")}</button>
      )}
      {error && <span class="error" role="alert">{error}</span>}
    </div>
  );
}

// A post; `mine` gives its author Edit and Delete, `canDelete` Delete only (a community's owner or publisher).
export function PostCard({ p, mine, me, canDelete = mine }: { p: Post; mine: boolean; me: string; canDelete?: boolean }) {
  const st = useStore();
  const [editing, setEditing] = useState(false);
  const badge = audienceBadge(p);
  if (editing) return <Composer editing={p} onDone={() => setEditing(false)} />;
  const tags = extraTags(p);
  return (
    <article class="post card" data-post-id={p.id} aria-label={`${st.profiles.get(p.owner)?.fn || p.authorName}: ${p.title || p.content.slice(0, 60)}`}>
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
        {p.edited && <span class="muted small">{t("editedPost")}</span>}
        {badge && <span class="badge">{badge}</span>}
      </header>
      {p.title && p.title !== p.content.split("\n")[0].slice(0, 80) && <h3>{p.title}</h3>}
      <Markdown class="content" source={p.content} />
      {tags.length > 0 && (
        <ul class="row tags" aria-label={t("hashtags")}>
          {tags.map((tg) => <li key={tg}><a class="hashtag" href={tagHref(tg.replace(/^#/, ""))}>#{tg.replace(/^#/, "")}</a></li>)}
        </ul>
      )}
      {p.images && (
        <div class="row thumbs">
          {p.images.map((pic) => <PictureThumb key={pic.url} p={pic} alt={p.title || t("picture")} />)}
        </div>
      )}
      <LinkPreviewCard text={p.content} />
      {(p.comments || st.feed.attachments) && <Discussion p={p} me={me} />}
      {(mine || canDelete) && <PostActions p={p} canEdit={mine} onEdit={() => setEditing(true)} />}
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
      <p class="row"><a href="#/tag/">{t("searchPosts")}</a></p>
      {f.server && (
        <div class="row filters" role="group" aria-label={t("feedFilters")}>
          {filters.map(([v, k]) => (
            <button key={v} type="button" class={f.filter === v ? "" : "secondary"} aria-pressed={f.filter === v}
              onClick={() => void setFeedFilter(session(), v)}>{t(k)}</button>
          ))}
        </div>
      )}
      {posts.length === 0 && !f.loading && <p class="muted">{t("noPosts")}</p>}
      {posts.map((p) => <PostCard key={postKey(p)} p={p} mine={p.owner === me} me={me} />)}
      {f.server && !f.complete && f.last && (
        <button type="button" class="secondary more" disabled={f.loading} onClick={() => void loadFeedPage(session(), true)}>
          {t("morePosts")}
        </button>
      )}
    </section>
  );
}
