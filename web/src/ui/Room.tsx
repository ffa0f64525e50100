import { useEffect, useRef, useState } from "preact/hooks";
import { session } from "../app";
import { formatTime, t } from "../i18n";
import { useStore } from "../store";
import { joinRoom, leaveRoom, sendRoomMessage } from "../xmpp/rooms";

// Join (or create) a room: a bare name goes to the account's own MUC service.
export function JoinRoom() {
  const st = useStore();
  const domain = (st.me ?? "@").split("@")[1];
  const [room, setRoom] = useState("");
  const [nick, setNick] = useState((st.me ?? "").split("@")[0]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const name = room.trim().toLowerCase();
    if (!name || !nick.trim() || /[\s/]/.test(name)) return;
    const jid = name.includes("@") ? name : `${name}@conference.${domain}`;
    await joinRoom(session(), jid, nick.trim());
    location.hash = "#/room/" + encodeURIComponent(jid);
  };
  return (
    <form class="card row" onSubmit={submit} aria-label={t("joinRoom")}>
      <input class="grow" type="text" aria-label={t("roomAddress")} placeholder={t("roomAddress")} value={room}
        onInput={(e) => setRoom((e.target as HTMLInputElement).value)} />
      <input type="text" aria-label={t("nickname")} placeholder={t("nickname")} value={nick}
        onInput={(e) => setNick((e.target as HTMLInputElement).value)} />
      <button type="submit">{t("join")}</button>
    </form>
  );
}

export function RoomList() {
  const st = useStore();
  const rooms = [...st.rooms.values()].sort((a, b) => a.jid.localeCompare(b.jid));
  return (
    <ul class="list" aria-label={t("rooms")}>
      {rooms.map((r) => (
        <li key={r.jid}>
          <a class="grow" href={"#/room/" + encodeURIComponent(r.jid)}>
            <strong>#{r.jid.split("@")[0]}</strong> <span class="muted small">{r.jid}</span>
            <div class="muted small">{r.messages.length ? r.messages[r.messages.length - 1].body : r.subject}</div>
          </a>
        </li>
      ))}
    </ul>
  );
}

export function RoomView({ jid }: { jid: string }) {
  const st = useStore();
  const [text, setText] = useState("");
  const end = useRef<HTMLDivElement>(null);
  const room = st.rooms.get(jid);
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [room?.messages.length]);
  if (!room) return <JoinRoom />;
  const send = async (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText("");
    await sendRoomMessage(session(), jid, body);
  };
  const occupants = [...room.occupants.values()].sort((a, b) => a.nick.localeCompare(b.nick));
  return (
    <section class="conversation" aria-label={"#" + jid.split("@")[0]}>
      <header class="row">
        <a href="#/chats" class="button secondary">{t("back")}</a>
        <h2 class="grow">#{jid.split("@")[0]}</h2>
        <button class="secondary" onClick={() => { void leaveRoom(session(), jid); location.hash = "#/chats"; }}>{t("leave")}</button>
      </header>
      {room.subject && <p class="muted">{room.subject}</p>}
      {room.error && <p class="error" role="alert">{t("roomError")} ({room.error})</p>}
      <details>
        <summary>{t("occupants")} ({occupants.length})</summary>
        <ul class="occupants">{occupants.map((o) => <li key={o.nick}>{o.nick} <span class="muted small">{o.role}</span></li>)}</ul>
      </details>
      <ol class="messages" aria-live="polite">
        {room.messages.map((m) => (
          <li key={m.id} class={m.mine ? "out" : "in"}>
            {!m.mine && <strong class="small">{m.nick}</strong>}
            <p>{m.body}</p>
            <span class="muted small">{formatTime(m.stamp)}</span>
          </li>
        ))}
      </ol>
      <div ref={end} />
      <form class="row send" onSubmit={send}>
        <input class="grow" type="text" aria-label={t("message")} placeholder={t("message")} value={text} disabled={!room.joined}
          onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={!room.joined}>{t("send")}</button>
      </form>
    </section>
  );
}
