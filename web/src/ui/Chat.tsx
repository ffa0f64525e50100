import { useEffect, useRef, useState } from "preact/hooks";
import { session } from "../app";
import { formatTime, t } from "../i18n";
import { useStore, type ChatMessage } from "../store";
import { correctLast, lastOutgoing, loadHistory, markDisplayed, react, sendChat, setOpenChat, setTyping } from "../xmpp/chat";
import { LinkPreviewCard } from "./LinkPreviewCard";
import { PictureThumb } from "./PictureThumb";
import { uploadPicture } from "../xmpp/media";
import { isShownImage, uploadFile } from "../xmpp/upload";

export function ChatList() {
  const st = useStore();
  const peers = [...st.chats.entries()]
    .filter(([, msgs]) => msgs.length > 0)
    .sort(([, a], [, b]) => b[b.length - 1].stamp - a[a.length - 1].stamp);
  if (peers.length === 0) return <p class="muted">{t("noChats")}</p>;
  return (
    <ul class="list" aria-label={t("chats")}>
      {peers.map(([peer, msgs]) => (
        <li key={peer}>
          <a href={"#/chat/" + encodeURIComponent(peer)} class="grow">
            <strong>{st.contacts.get(peer)?.name || peer}</strong>
            {(st.unread.get(peer) ?? 0) > 0 && <span class="badge">{st.unread.get(peer)}</span>}
            <div class="muted small">{msgs[msgs.length - 1].body}</div>
          </a>
        </li>
      ))}
    </ul>
  );
}

const EMOJIS = ["👍", "❤️", "😂", "😮", "😢"];

// One message: its reply context, text, state (delivered, seen, edited), reactions and actions.
function Bubble({ m, peer, me, onReply, onEdit, canEdit }: { m: ChatMessage; peer: string; me: string; onReply: () => void;
  onEdit: () => void; canEdit: boolean }) {
  const st = useStore();
  const [picking, setPicking] = useState(false);
  const list = st.chats.get(peer) ?? [];
  const quoted = m.replyTo ? list.find((x) => x.id === m.replyTo) : undefined;
  const counts = new Map<string, number>();
  for (const set of Object.values(m.reactions ?? {})) for (const e of set) counts.set(e, (counts.get(e) ?? 0) + 1);
  const mine = new Set(m.reactions?.[me] ?? []);
  return (
    <li class={m.outgoing ? "out" : "in"} data-archive-id={m.archiveId} data-id={m.id}>
      {m.replyTo && <blockquote class="reply muted small">{quoted ? quoted.body : t("replyToUnknown")}</blockquote>}
      {m.picture ? <PictureThumb p={m.picture} />
        : isShownImage(m.body) ? <a href={m.body}><img class="shared" src={m.body} alt={t("picture")} /></a>
        : <><p>{m.body}</p><LinkPreviewCard text={m.body} /></>}
      <span class="muted small">
        {formatTime(m.stamp)}
        {m.corrected ? " · " + t("edited") : ""}
        {m.outgoing && m.receipt ? " · " + t("delivered") : ""}
        {m.outgoing && m.displayed ? " · " + t("seen") : ""}
      </span>
      {counts.size > 0 && (
        <div class="row reactions">
          {[...counts].map(([e, n]) => (
            <button key={e} type="button" class="secondary small" aria-pressed={mine.has(e)}
              aria-label={`${e} ${n}`} onClick={() => void react(session(), peer, m, e)}>{e} {n}</button>
          ))}
        </div>
      )}
      <div class="row actions">
        <button type="button" class="link small" onClick={onReply}>{t("reply")}</button>
        <button type="button" class="link small" aria-expanded={picking} onClick={() => setPicking(!picking)}>{t("react")}</button>
        {canEdit && <button type="button" class="link small" onClick={onEdit}>{t("editMessage")}</button>}
      </div>
      {picking && (
        <div class="row" role="group" aria-label={t("react")}>
          {EMOJIS.map((e) => (
            <button key={e} type="button" class="secondary small" aria-pressed={mine.has(e)}
              onClick={() => { setPicking(false); void react(session(), peer, m, e); }}>{e}</button>
          ))}
        </div>
      )}
    </li>
  );
}

export function Conversation({ peer }: { peer: string }) {
  const st = useStore();
  const [text, setText] = useState("");
  const [more, setMore] = useState(false);
  const [error, setError] = useState("");
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState(false);
  const end = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const msgs = st.chats.get(peer) ?? [];
  const me = st.me ?? "";
  useEffect(() => {
    setOpenChat(peer);
    if (!st.historyLoaded.has(peer)) void loadHistory(session(), peer).then(setMore).catch(() => setMore(false));
    return () => {
      setOpenChat(null);
      setTyping(session(), peer, false);
    };
  }, [peer]);
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [msgs.length]);
  // The conversation is on screen: its newest message from the peer is displayed (XEP-0333).
  useEffect(() => {
    if (document.visibilityState === "visible") markDisplayed(session(), peer);
  });
  const last = lastOutgoing(peer);
  const send = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText("");
    if (editing) {
      setEditing(false);
      await correctLast(session(), peer, body);
      return;
    }
    const r = replyTo ?? undefined;
    setReplyTo(null);
    await sendChat(session(), peer, body, undefined, r);
  };
  const edit = () => {
    if (!last) return;
    setReplyTo(null);
    setEditing(true);
    setText(last.body);
    input.current?.focus();
  };
  const cancel = () => {
    setEditing(false);
    setReplyTo(null);
    setText("");
  };
  const attach = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    input.value = "";
    if (!f) return;
    setError("");
    try {
      if (f.type.startsWith("image/")) {
        // Uploaded and described (thumbnail, BlurHash) where the server's media service is, then shared.
        const pic = await uploadPicture(session(), f);
        await sendChat(session(), peer, pic.url, pic.url, undefined, pic);
      } else {
        const url = await uploadFile(session(), f, f.name);
        await sendChat(session(), peer, url, url);
      }
    } catch {
      setError(t("uploadFailed"));
    }
  };
  const name = st.contacts.get(peer)?.name || peer;
  return (
    <section class="conversation" aria-label={t("chatWith") + " " + peer}>
      <header class="row">
        <a href="#/chats" class="button secondary">{t("back")}</a>
        <h2 class="grow">{name}</h2>
      </header>
      {more && (
        <button class="link" onClick={() => void loadHistory(session(), peer).then(setMore)}>{t("olderMessages")}</button>
      )}
      <ol class="messages" aria-live="polite">
        {msgs.map((m) => (
          <Bubble key={m.archiveId ?? m.id} m={m} peer={peer} me={me} canEdit={m === last}
            onReply={() => { setEditing(false); setReplyTo(m); input.current?.focus(); }} onEdit={edit} />
        ))}
      </ol>
      <div ref={end} />
      <p class="muted small typing" role="status">{st.typing.has(peer) ? `${name} ${t("isTyping")}` : ""}</p>
      {error && <p class="error" role="alert">{error}</p>}
      {(replyTo || editing) && (
        <div class="row composing-context">
          <span class="grow muted small">{editing ? t("editingMessage") : `${t("replyingTo")} « ${replyTo!.body} »`}</span>
          <button type="button" class="link small" onClick={cancel}>{t("cancel")}</button>
        </div>
      )}
      <form class="row send" onSubmit={send}>
        <label class="button secondary attach">
          <span aria-hidden="true">+</span><span class="visually-hidden">{t("attach")}</span>
          <input type="file" class="visually-hidden" aria-label={t("attach")} onChange={attach} />
        </label>
        <input ref={input} class="grow" type="text" aria-label={t("message")} placeholder={t("message")} value={text}
          onInput={(e) => {
            const v = (e.target as HTMLInputElement).value;
            setText(v);
            if (!editing) setTyping(session(), peer, v.trim() !== "");
          }}
          onKeyDown={(e) => {
            // As in most chat apps: the up arrow in an empty field edits our last message.
            if (e.key === "ArrowUp" && !text && last) {
              e.preventDefault();
              edit();
            } else if (e.key === "Escape" && (editing || replyTo)) cancel();
          }} />
        <button type="submit">{editing ? t("save") : t("send")}</button>
      </form>
    </section>
  );
}
