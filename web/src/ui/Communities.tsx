import { useEffect, useState } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore, type Community, type Post } from "../store";
import {
  answerRequest, BLOG_TYPE, loadMembers, communityKey, createCommunity, defaultService, explore, GALLERY_TYPE, openCommunity, postToCommunity,
  setAffiliation, setSubscribed,
} from "../xmpp/communities";
import { PostActions, PostCard } from "./Feed";
import { AttachButton, Composer, PicturePicker, usePictures } from "./Composer";
import { PictureThumb } from "./PictureThumb";

function communityHref(c: { service: string; node: string }): string {
  return `#/community/${encodeURIComponent(c.service)}/${encodeURIComponent(c.node)}`;
}

function CreateCommunity({ service }: { service: string }) {
  const [node, setNode] = useState("");
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [type, setType] = useState(BLOG_TYPE);
  const [publish, setPublish] = useState<"publishers" | "subscribers" | "open">("subscribers");
  const [access, setAccess] = useState<"open" | "authorize">("open");
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    const id = node.trim().toLowerCase();
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id)) return setError(t("badCommunityName"));
    try {
      const c = await createCommunity(session(), service, id, title.trim() || id, description.trim(), type, publish, access);
      location.hash = communityHref(c);
    } catch (err) {
      setError(t("communityRefused") + " " + String((err as Error).message ?? ""));
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-label={t("createCommunity")}>
      <h2>{t("createCommunity")}</h2>
      <label>{t("communityName")}<input type="text" value={node} onInput={(e) => setNode((e.target as HTMLInputElement).value)} /></label>
      <label>{t("communityTitle")}<input type="text" value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} /></label>
      <label>{t("communityDescription")}<textarea rows={2} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} /></label>
      <label>{t("communityType")}
        <select value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
          <option value={BLOG_TYPE}>{t("typeBlog")}</option>
          <option value={GALLERY_TYPE}>{t("typeGallery")}</option>
        </select>
      </label>
      <label>{t("whoReads")}
        <select value={access} onChange={(e) => setAccess((e.target as HTMLSelectElement).value as typeof access)}>
          <option value="open">{t("readAnyone")}</option>
          <option value="authorize">{t("readApproved")}</option>
        </select>
      </label>
      <label>{t("whoPublishes")}
        <select value={publish} onChange={(e) => setPublish((e.target as HTMLSelectElement).value as typeof publish)}>
          <option value="subscribers">{t("publishSubscribers")}</option>
          <option value="publishers">{t("publishPublishers")}</option>
          <option value="open">{t("publishOpen")}</option>
        </select>
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit">{t("create")}</button>
    </form>
  );
}

export function Explore() {
  useStore(); // meta-data arrives into the listed objects: re-render then
  const [service, setService] = useState(() => defaultService(session()));
  const [shown, setShown] = useState<Community[] | null>(null);
  const [error, setError] = useState("");
  const load = (svc: string) => {
    setError("");
    explore(session(), svc).then(setShown).catch(() => { setShown([]); setError(t("serviceUnreachable")); });
  };
  useEffect(() => load(service), []);
  return (
    <section aria-label={t("communities")}>
      <form class="card row" onSubmit={(e) => { e.preventDefault(); load(service.trim()); }} aria-label={t("explore")}>
        <input class="grow" type="text" aria-label={t("pubsubService")} value={service}
          onInput={(e) => setService((e.target as HTMLInputElement).value)} />
        <button type="submit">{t("explore")}</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <ul class="list communities">
        {(shown ?? []).map((c) => (
          <li key={communityKey(c.service, c.node)} data-node={c.node}>
            <a class="grow" href={communityHref(c)}>
              <strong>{c.title}</strong> {c.type === GALLERY_TYPE && <span class="badge">{t("typeGallery")}</span>}
              <div class="muted small">{c.description}</div>
              <div class="muted small">
                {c.subscribers !== undefined && <>{c.subscribers} {t("subscribers")} · </>}
                {c.items !== undefined && <>{c.items} {t("postsCount")}</>}
              </div>
            </a>
          </li>
        ))}
      </ul>
      {shown && shown.length === 0 && !error && <p class="muted">{t("noCommunities")}</p>}
      <CreateCommunity service={service} />
    </section>
  );
}

// For owners: subscription requests to answer, and the members with their affiliation.
function Members({ c }: { c: Community }) {
  const st = useStore();
  const key = communityKey(c.service, c.node);
  const requests = st.pendingRequests.get(key) ?? [];
  const members = st.communityMembers.get(key) ?? [];
  const [error, setError] = useState("");
  const change = (jid: string, affiliation: string) => {
    setError("");
    setAffiliation(session(), c, jid, affiliation).catch(() => setError(t("communityRefused")));
  };
  return (
    <section class="card" aria-label={t("members")}>
      <div class="row">
        <h3 class="grow">{t("members")}</h3>
        <button type="button" class="secondary" onClick={() => void loadMembers(session(), c).catch(() => setError(t("communityRefused")))}>
          {t("refresh")}
        </button>
      </div>
      {requests.length > 0 && (
        <ul class="list requests" aria-label={t("pendingRequests")}>
          {requests.map((r) => (
            <li key={r.jid} class="row" data-jid={r.jid}>
              <span class="grow">{r.jid} <span class="muted small">{t("asksToSubscribe")}</span></span>
              <button type="button" aria-label={`${t("approve")}: ${r.jid}`} onClick={() => void answerRequest(session(), r, true)}>{t("approve")}</button>
              <button type="button" class="secondary" aria-label={`${t("refuse")}: ${r.jid}`}
                onClick={() => void answerRequest(session(), r, false)}>{t("refuse")}</button>
            </li>
          ))}
        </ul>
      )}
      <ul class="list members">
        {members.map((m) => (
          <li key={m.jid} class="row" data-jid={m.jid}>
            <span class="grow">{m.jid} <span class="muted small">{m.subscription === "subscribed" ? t("subscribedState") : ""}</span></span>
            {m.affiliation === "owner" ? <span class="badge">{t("affOwner")}</span> : (
              <select aria-label={`${t("role")}: ${m.jid}`} value={m.affiliation} onChange={(e) => change(m.jid, (e.target as HTMLSelectElement).value)}>
                <option value="none">{t("affNone")}</option>
                <option value="member">{t("affMember")}</option>
                <option value="publisher">{t("affPublisher")}</option>
                <option value="outcast">{t("affOutcast")}</option>
              </select>
            )}
          </li>
        ))}
      </ul>
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}

// A gallery's post in the photo grid; its author edits it (caption, pictures) with the post composer.
function GalleryTile({ p, mine, canDelete }: { p: Post; mine: boolean; canDelete: boolean }) {
  const [editing, setEditing] = useState(false);
  if (editing) return <Composer editing={p} onDone={() => setEditing(false)} />;
  return (
    <figure class="card" data-post-id={p.id}>
      {p.images!.map((pic) => <PictureThumb key={pic.url} p={pic} alt={p.title || p.content || t("picture")} lazy />)}
      <figcaption>{p.title || p.content}</figcaption>
      {canDelete && <PostActions p={p} canEdit={mine} onEdit={() => setEditing(true)} />}
    </figure>
  );
}

export function CommunityView({ service, node }: { service: string; node: string }) {
  const st = useStore();
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const pics = usePictures();
  useEffect(() => void openCommunity(session(), service, node), [service, node]);
  const key = communityKey(service, node);
  const c = st.communities.get(key);
  const posts = st.communityPosts.get(key) ?? [];
  if (!c) return <p class="muted">…</p>;
  const gallery = c.type === GALLERY_TYPE;
  const me = st.me ?? "";
  // Authors edit and delete their posts; the node's owners and publishers may delete anyone's (XEP-0060 §7.2).
  const moderator = c.affiliation === "owner" || c.affiliation === "publisher";
  // A gallery's post is its pictures: the text is then an optional caption.
  const ready = pics.uploading === 0 && (gallery ? pics.pictures.length > 0 : !!text.trim());
  const publish = async (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    setError("");
    try {
      await postToCommunity(session(), c, title.trim(), text.trim(), pics.pictures);
      setTitle("");
      setText("");
      pics.setPictures([]);
    } catch {
      setError(t("notAllowedToPost"));
    }
  };
  return (
    <section aria-label={c.title}>
      <div class="card">
        <h2>{c.title}</h2>
        {c.description && <p>{c.description}</p>}
        <p class="muted small">{service} · {node}{c.subscribers !== undefined && <> · {c.subscribers} {t("subscribers")}</>}</p>
        <div class="row">
          {c.pending ? <span class="muted">{t("requestSent")}</span> : (
            <button class={c.subscribed ? "secondary" : ""} disabled={!c.loaded} onClick={() => void setSubscribed(session(), c, !c.subscribed)}>
              {c.subscribed ? t("unsubscribe") : t("subscribe")}
            </button>
          )}
          <a href={`/blog/community/${node}@${service}`}>{t("publicBlog")}</a>
        </div>
      </div>
      {c.affiliation === "owner" && <Members c={c} />}
      <form class="composer card" onSubmit={publish} aria-label={t("postToCommunity")}>
        <input type="text" placeholder={t("postTitle")} aria-label={t("postTitle")} value={title}
          onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        <textarea rows={3} placeholder={gallery ? t("caption") : t("postText")} aria-label={gallery ? t("caption") : t("postText")} value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <PicturePicker pics={pics} />
        {error && <p class="error" role="alert">{error}</p>}
        <div class="row">
          <AttachButton pics={pics} />
          <button type="submit" disabled={!ready}>{t("publish")}</button>
        </div>
      </form>
      <div class={gallery ? "gallery" : ""}>
        {posts.map((p) =>
          gallery && p.images ? (
            <GalleryTile key={p.id} p={p} mine={p.owner === me} canDelete={p.owner === me || moderator} />
          ) : (
            <PostCard key={p.id} p={p} mine={p.owner === me} me={me} canDelete={p.owner === me || moderator} />
          ),
        )}
      </div>
      {posts.length === 0 && <p class="muted">{t("noPosts")}</p>}
    </section>
  );
}
