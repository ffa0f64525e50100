import { useEffect, useState } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore, type Post } from "../store";
import { searchPosts } from "../xmpp/explore";
import { postKey } from "../xmpp/microblog";
import { PostCard } from "./Feed";

// Public posts by hashtag and words, from the server's explore service (docs/protocol/explore.md);
// reached from a hashtag's link (#/tag/<tag>) or the feed's search link (#/tag/).
export function TagView({ tag }: { tag: string }) {
  const st = useStore();
  const [tagInput, setTagInput] = useState(tag);
  const [words, setWords] = useState("");
  const [query, setQuery] = useState({ tag, text: "" });
  const [posts, setPosts] = useState<Post[] | null>(null);
  const [last, setLast] = useState<string | undefined>();
  const [complete, setComplete] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState("");
  const run = async (q: { tag: string; text: string }, after?: string) => {
    if (!q.tag && !q.text) {
      setPosts(null);
      return;
    }
    setLoading(true);
    setError("");
    try {
      const page = await searchPosts(session(), { tag: q.tag || undefined, text: q.text || undefined, after });
      setPosts((old) => (after ? [...(old ?? []), ...page.posts] : page.posts));
      setLast(page.last);
      setComplete(page.complete || !page.last);
    } catch {
      if (!after) setPosts([]);
      setError(t("searchFailed"));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setTagInput(tag);
    const q = { tag, text: "" };
    setQuery(q);
    setWords("");
    void run(q);
  }, [tag]);
  const submit = (e: Event) => {
    e.preventDefault();
    const q = { tag: tagInput.trim().replace(/^#/, ""), text: words.trim() };
    setQuery(q);
    void run(q);
  };
  const me = st.me ?? "";
  const heading = query.tag ? "#" + query.tag : t("searchPosts");
  return (
    <section aria-label={t("tagView")} aria-busy={loading} class="tag-view">
      <h2>{heading}</h2>
      <form class="card row" role="search" onSubmit={submit} aria-label={t("searchPosts")}>
        <label class="grow">{t("searchTag")}
          <input type="text" value={tagInput} placeholder="#xmpp" onInput={(e) => setTagInput((e.target as HTMLInputElement).value)} />
        </label>
        <label class="grow">{t("searchWords")}
          <input type="search" value={words} onInput={(e) => setWords((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t("search")}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {posts && posts.length === 0 && !loading && !error && <p class="muted" role="status">{t("noPublicPosts")}</p>}
      <div class="results">
        {(posts ?? []).map((p) => <PostCard key={postKey(p)} p={p} mine={false} me={me} />)}
      </div>
      {posts && posts.length > 0 && !complete && (
        <button type="button" class="secondary more" disabled={loading} onClick={() => void run(query, last)}>{t("morePosts")}</button>
      )}
    </section>
  );
}
