import { useEffect, useState } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore } from "../store";
import { fetchPosts } from "../xmpp/microblog";
import { loadProfile, saveAvatar, saveBanner, saveProfile } from "../xmpp/profile";
import { block, follow, loadFollows, unblock, unfollow, type ReportReason } from "../xmpp/people";
import { Avatar } from "./Avatar";
import { PostCard } from "./Feed";

// A list of people (who they follow, who follows them), each a link to their profile.
function People({ id, title, jids }: { id: string; title: string; jids?: string[] }) {
  return (
    <section class="people" aria-labelledby={id}>
      <h3 id={id}>{title} {jids && <span class="muted">({jids.length})</span>}</h3>
      {!jids && <p class="muted small">{t("notListed")}</p>}
      {jids?.length === 0 && <p class="muted small">{t("nobody")}</p>}
      <ul class="list">
        {jids?.map((j) => <li key={j}><a href={"#/profile/" + encodeURIComponent(j)}>{j}</a></li>)}
      </ul>
    </section>
  );
}

// Reporting asks why (XEP-0377 reasons) and what happened; the person is blocked along.
function ReportForm({ jid, done }: { jid: string; done: (ok: boolean) => void }) {
  const [reason, setReason] = useState<ReportReason>("spam");
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await block(session(), jid, { reason, text: text.trim() });
      done(true);
    } catch {
      setError(t("actionFailed"));
    }
  };
  return (
    <form class="card report" onSubmit={submit} aria-label={t("reportTitle")}>
      <h3>{t("reportTitle")}</h3>
      <label>
        {t("reportReason")}
        <select value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value as ReportReason)}>
          <option value="spam">{t("reasonSpam")}</option>
          <option value="abuse">{t("reasonAbuse")}</option>
        </select>
      </label>
      <label>
        {t("reportText")}
        <textarea rows={2} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
      <p class="muted small">{t("reportHelp")}</p>
      {error && <p role="alert" class="error">{error}</p>}
      <div class="row">
        <button type="submit">{t("reportAndBlock")}</button>
        <button type="button" class="secondary" onClick={() => done(false)}>{t("cancel")}</button>
      </div>
    </form>
  );
}

export function ProfileView({ jid }: { jid: string }) {
  const st = useStore();
  const [reporting, setReporting] = useState(false);
  const [status, setStatus] = useState(""); // an error
  const [notice, setNotice] = useState("");
  useEffect(() => {
    setReporting(false);
    setStatus("");
    setNotice("");
    void loadProfile(session(), jid);
    void fetchPosts(session(), jid);
    void loadFollows(session(), jid);
  }, [jid]);
  const p = st.profiles.get(jid);
  const people = st.people.get(jid);
  const contact = st.contacts.get(jid);
  const following = people?.following || (contact && (contact.subscription === "to" || contact.subscription === "both"));
  const blocked = st.blocked.has(jid);
  const me = jid === st.me;
  const act = (f: () => Promise<void>) => () => {
    setStatus("");
    setNotice("");
    void f().catch(() => setStatus(t("actionFailed")));
  };
  const posts = [...st.posts.values()].filter((x) => x.owner === jid && !x.community).sort((a, b) => b.published - a.published);
  const name = p?.fn || p?.nickname || jid;
  return (
    <section aria-label={t("profile")}>
      <div class="card profile-card">
        {p?.banner && <img class="banner" src={p.banner} alt={t("bannerOf") + " " + name} />}
        <div class="profile">
          <Avatar jid={jid} size={96} />
          <div class="grow">
            <h2>{name}</h2>
            <p class="muted">{jid}</p>
            {p?.note && <p class="bio">{p.note}</p>}
            <div class="row wrap">
              {!me && !blocked && (following
                ? <button class="secondary" onClick={act(() => unfollow(session(), jid))}>{t("unfollow")}</button>
                : <button onClick={act(() => follow(session(), jid))} disabled={contact?.pendingOut && !people?.following}>
                    {contact?.pendingOut ? t("waiting") : t("followPerson")}
                  </button>)}
              {!me && !blocked && <a class="button secondary" href={"#/chat/" + encodeURIComponent(jid)}>{t("chatWith")}</a>}
              {/* This server serves the public pages of its own people only. */}
              {jid.split("@")[1] === st.me?.split("@")[1] && <a href={"/blog/" + jid}>{t("publicBlog")}</a>}
            </div>
            {!me && (
              <div class="row wrap">
                {blocked
                  ? <button class="secondary" onClick={act(() => unblock(session(), jid))}>{t("unblock")}</button>
                  : <button class="secondary" onClick={act(() => block(session(), jid))}>{t("block")}</button>}
                {!reporting && <button class="secondary" onClick={() => setReporting(true)}>{t("report")}</button>}
              </div>
            )}
            {blocked && <p role="status">{t("blockedNote")}</p>}
            {notice && <p role="status">{notice}</p>}
            {status && <p role="alert" class="error">{status}</p>}
          </div>
        </div>
      </div>
      {reporting && <ReportForm jid={jid} done={(ok) => { setReporting(false); if (ok) setNotice(t("reported")); }} />}
      <div class="card follows">
        <People id="follows-heading" title={t("followsTitle")} jids={people?.follows} />
        <People id="followers-heading" title={t("followersTitle")} jids={people?.followers} />
      </div>
      {posts.map((x) => <PostCard key={x.id} p={x} mine={x.owner === st.me} me={st.me ?? ""} />)}
    </section>
  );
}

export function EditProfile() {
  const st = useStore();
  const me = st.me ?? "";
  const p = st.profiles.get(me);
  const [fn, setFn] = useState(p?.fn ?? "");
  const [note, setNote] = useState(p?.note ?? "");
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    setFn(p?.fn ?? "");
    setNote(p?.note ?? "");
  }, [p?.fn, p?.note]);
  const submit = async (e: Event) => {
    e.preventDefault();
    await saveProfile(session(), fn.trim(), p?.nickname || me.split("@")[0], note.trim());
    setSaved(true);
  };
  const [bannerError, setBannerError] = useState("");
  const pick = (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void saveAvatar(session(), f);
  };
  const pickBanner = (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    setBannerError("");
    if (f) void saveBanner(session(), f).catch(() => setBannerError(t("actionFailed")));
  };
  return (
    <form class="card" onSubmit={submit} aria-label={t("editProfile")}>
      <h2>{t("editProfile")}</h2>
      <div class="row">
        <Avatar jid={me} size={64} />
        <label>
          {t("avatar")}
          <input type="file" accept="image/*" onChange={pick} />
        </label>
      </div>
      {p?.banner && <img class="banner" src={p.banner} alt={t("banner")} />}
      <label>
        {t("banner")}
        <input type="file" accept="image/png,image/jpeg,image/webp,image/gif" onChange={pickBanner} />
      </label>
      {bannerError && <p role="alert" class="error">{bannerError}</p>}
      <label>
        {t("fullName")}
        <input type="text" value={fn} onInput={(e) => { setFn((e.target as HTMLInputElement).value); setSaved(false); }} />
      </label>
      <label>
        {t("bio")}
        <textarea rows={3} value={note} onInput={(e) => { setNote((e.target as HTMLTextAreaElement).value); setSaved(false); }} />
      </label>
      <div class="row">
        <button type="submit">{t("save")}</button>
        {saved && <span role="status">{t("saved")}</span>}
      </div>
    </form>
  );
}
