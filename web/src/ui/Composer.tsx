import { useState } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore, type Picture, type Post } from "../store";
import { publishPost, type Audience } from "../xmpp/microblog";
import { uploadPicture } from "../xmpp/media";
import { rosterGroups } from "../xmpp/groups";
import { Markdown } from "./Markdown";

// Pictures chosen for a post: each uploaded at once and described by the server's media service, so the
// composer shows its thumbnail before publishing. Shared by the news feed's composer and the community one.
export function usePictures(initial: Picture[] = []) {
  const [pictures, setPictures] = useState<Picture[]>(initial);
  const [uploading, setUploading] = useState(0);
  const [error, setError] = useState("");
  const attach = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    setError("");
    setUploading((n) => n + files.length);
    for (const f of files) {
      try {
        const p = await uploadPicture(session(), f);
        setPictures((list) => [...list, p]);
      } catch {
        setError(t("uploadFailed"));
      } finally {
        setUploading((n) => n - 1);
      }
    }
  };
  const remove = (url: string) => setPictures((list) => list.filter((p) => p.url !== url));
  return { pictures, setPictures, uploading, error, attach, remove };
}

export function PicturePicker({ pics }: { pics: ReturnType<typeof usePictures> }) {
  return (
    <>
      {pics.pictures.length > 0 && (
        <ul class="row thumbs" aria-label={t("attachedPictures")}>
          {pics.pictures.map((p) => (
            <li key={p.url}>
              <img src={p.thumb?.url ?? p.url} alt={t("picture")} class="thumb" />
              <button type="button" class="link" aria-label={`${t("removePicture")} ${p.url.split("/").pop()}`} onClick={() => pics.remove(p.url)}>×</button>
            </li>
          ))}
        </ul>
      )}
      {pics.uploading > 0 && <p class="muted small" role="status">{t("uploading")}</p>}
      {pics.error && <p class="error" role="alert">{pics.error}</p>}
    </>
  );
}

export function AttachButton({ pics }: { pics: ReturnType<typeof usePictures> }) {
  return (
    <label class="button secondary attach">
      {t("addPictures")}
      <input type="file" accept="image/*" multiple class="visually-hidden" aria-label={t("addPictures")} onChange={pics.attach} />
    </label>
  );
}

type Kind = Audience["kind"];

function initialAudience(p?: Post): { kind: Kind; groups: string[] } {
  if (!p) return { kind: "presence", groups: [] };
  if (p.access === "roster" && p.groups) return { kind: "roster", groups: p.groups };
  if (p.access === "open" || p.access === "presence") return { kind: p.access, groups: [] };
  return { kind: "keep", groups: [] };
}

// Writing a post, or editing one of ours (`editing`): title, Markdown text with a preview, pictures,
// who sees it, comments on or off. Hashtags (#word) become the post's categories when it is published.
// A community's post keeps the node's audience and discussion, and in a gallery its text (a caption) may be empty.
export function Composer({ editing, onDone }: { editing?: Post; onDone?: () => void }) {
  useStore(); // the roster's groups change under us
  const [title, setTitle] = useState(editing && editing.title !== editing.content.split("\n")[0].slice(0, 80) ? editing.title : "");
  const [text, setText] = useState(editing?.content ?? "");
  const start = initialAudience(editing);
  const [kind, setKind] = useState<Kind>(start.kind);
  const [groups, setGroups] = useState<string[]>(start.groups);
  const [allowComments, setAllowComments] = useState(editing ? !!editing.comments : true);
  const [preview, setPreview] = useState(false);
  const pics = usePictures(editing?.images ?? []);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const known = rosterGroups();
  const offered = [...new Set([...known, ...groups])];
  const audience: Audience = kind === "roster" ? { kind, groups } : { kind };
  const community = !!editing?.community;
  const ready = (!!text.trim() || (community && pics.pictures.length > 0)) && !busy && pics.uploading === 0 && (kind !== "roster" || groups.length > 0);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError("");
    try {
      await publishPost(session(), { title: title.trim(), text, audience, allowComments, pictures: pics.pictures }, editing);
      pics.setPictures([]);
      setText("");
      setTitle("");
      setPreview(false);
      onDone?.();
    } catch {
      setError(t("publishFailed"));
    } finally {
      setBusy(false);
    }
  };
  const toggleGroup = (g: string, on: boolean) => setGroups((list) => on ? [...list.filter((x) => x !== g), g] : list.filter((x) => x !== g));
  const id = editing ? "edit-" + editing.id : "new";
  return (
    <form class="composer card" onSubmit={submit} aria-label={editing ? t("editPost") : t("writePost")}>
      <input type="text" placeholder={t("postTitle")} aria-label={t("postTitle")} value={title}
        onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      {preview ? (
        <Markdown class="preview" source={text} />
      ) : (
        <textarea placeholder={t("postText")} aria-label={t("postText")} rows={3} value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      )}
      <PicturePicker pics={pics} />
      {kind === "roster" && (
        <fieldset class="groups">
          <legend>{t("chooseGroups")}</legend>
          {offered.length === 0 && <p class="muted small">{t("noGroups")}</p>}
          {offered.map((g) => (
            <label class="inline" key={g}>
              <input type="checkbox" checked={groups.includes(g)} onChange={(e) => toggleGroup(g, (e.target as HTMLInputElement).checked)} /> {g}
            </label>
          ))}
          <a href="#/groups">{t("manageGroups")}</a>
        </fieldset>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row">
        <AttachButton pics={pics} />
        {!community && (
          <>
            <span class="audience">
              <label for={id + "-audience"}>{t("audience")}</label>
              <select id={id + "-audience"} value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as Kind)}>
                {kind === "keep" && <option value="keep">{t("audienceUnchanged")}</option>}
                <option value="presence">{t("audienceContacts")}</option>
                <option value="open">{t("audienceEveryone")}</option>
                <option value="roster">{t("audienceGroups")}</option>
              </select>
            </span>
            <label class="inline">
              <input type="checkbox" checked={allowComments} onChange={(e) => setAllowComments((e.target as HTMLInputElement).checked)} />{" "}
              {t("allowComments")}
            </label>
          </>
        )}
        <button type="button" class="secondary" aria-pressed={preview} onClick={() => setPreview(!preview)}>
          {preview ? t("edit") : t("preview")}
        </button>
        {editing && <button type="button" class="secondary" onClick={() => onDone?.()}>{t("cancel")}</button>}
        <button type="submit" disabled={!ready}>{editing ? t("save") : t("publish")}</button>
      </div>
    </form>
  );
}
