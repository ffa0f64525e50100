import { useEffect, useState } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore } from "../store";
import { fetchPosts } from "../xmpp/microblog";
import { loadProfile, saveAvatar, saveProfile } from "../xmpp/profile";
import { addContact } from "../xmpp/roster";
import { Avatar } from "./Avatar";
import { PostCard } from "./Feed";

export function ProfileView({ jid }: { jid: string }) {
  const st = useStore();
  useEffect(() => {
    void loadProfile(session(), jid);
    void fetchPosts(session(), jid);
  }, [jid]);
  const p = st.profiles.get(jid);
  const contact = st.contacts.get(jid);
  const following = contact && (contact.subscription === "to" || contact.subscription === "both");
  const posts = [...st.posts.values()].filter((x) => x.owner === jid && !x.community).sort((a, b) => b.published - a.published);
  return (
    <section aria-label={t("profile")}>
      <div class="card profile">
        <Avatar jid={jid} size={96} />
        <div class="grow">
          <h2>{p?.fn || p?.nickname || jid}</h2>
          <p class="muted">{jid}</p>
          {p?.note && <p class="bio">{p.note}</p>}
          <div class="row">
            {jid !== st.me && !following && (
              <button onClick={() => void addContact(session(), jid, "")} disabled={contact?.pendingOut}>
                {contact?.pendingOut ? t("waiting") : t("follow")}
              </button>
            )}
            {jid !== st.me && <a class="button secondary" href={"#/chat/" + encodeURIComponent(jid)}>{t("chatWith")}</a>}
            <a href={"/blog/" + jid}>{t("publicBlog")}</a>
          </div>
        </div>
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
  const pick = (e: Event) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void saveAvatar(session(), f);
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
