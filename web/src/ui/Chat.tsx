import { useEffect, useRef, useState } from "preact/hooks";
import { session } from "../app";
import { formatTime, t } from "../i18n";
import { useStore } from "../store";
import { loadHistory, sendChat, setOpenChat } from "../xmpp/chat";
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

export function Conversation({ peer }: { peer: string }) {
  const st = useStore();
  const [text, setText] = useState("");
  const [more, setMore] = useState(false);
  const [error, setError] = useState("");
  const end = useRef<HTMLDivElement>(null);
  const msgs = st.chats.get(peer) ?? [];
  useEffect(() => {
    setOpenChat(peer);
    if (!st.historyLoaded.has(peer)) void loadHistory(session(), peer).then(setMore).catch(() => setMore(false));
    return () => setOpenChat(null);
  }, [peer]);
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [msgs.length]);
  const send = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText("");
    await sendChat(session(), peer, body);
  };
  const attach = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    input.value = "";
    if (!f) return;
    setError("");
    try {
      const url = await uploadFile(session(), f, f.name);
      await sendChat(session(), peer, url, url);
    } catch {
      setError(t("uploadFailed"));
    }
  };
  return (
    <section class="conversation" aria-label={t("chatWith") + " " + peer}>
      <header class="row">
        <a href="#/chats" class="button secondary">{t("back")}</a>
        <h2 class="grow">{st.contacts.get(peer)?.name || peer}</h2>
      </header>
      {more && (
        <button class="link" onClick={() => void loadHistory(session(), peer).then(setMore)}>{t("olderMessages")}</button>
      )}
      <ol class="messages" aria-live="polite">
        {msgs.map((m) => (
          <li key={m.archiveId ?? m.id} class={m.outgoing ? "out" : "in"} data-archive-id={m.archiveId}>
            {isShownImage(m.body) ? <a href={m.body}><img class="shared" src={m.body} alt={t("picture")} /></a> : <p>{m.body}</p>}
            <span class="muted small">
              {formatTime(m.stamp)}
              {m.outgoing && m.receipt ? " · " + t("delivered") : ""}
            </span>
          </li>
        ))}
      </ol>
      <div ref={end} />
      {error && <p class="error" role="alert">{error}</p>}
      <form class="row send" onSubmit={send}>
        <label class="button secondary attach">
          <span aria-hidden="true">+</span><span class="visually-hidden">{t("attach")}</span>
          <input type="file" class="visually-hidden" aria-label={t("attach")} onChange={attach} />
        </label>
        <input class="grow" type="text" aria-label={t("message")} placeholder={t("message")} value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">{t("send")}</button>
      </form>
    </section>
  );
}
