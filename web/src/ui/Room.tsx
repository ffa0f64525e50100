import { LinkPreviewCard } from "./LinkPreviewCard";
import { useEffect, useRef, useState } from "preact/hooks";
import { session } from "../app";
import { formatTime, t } from "../i18n";
import { store, useStore } from "../store";
import { ban, joinRoom, leaveRoom, loadRoomConfig, moderate, saveRoomConfig, sendRoomMessage, setRole, type RoomConfig } from "../xmpp/rooms";

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

// The owner's form: name, description and the switches most rooms need (XEP-0045 §10.2).
function RoomSettings({ jid }: { jid: string }) {
  const [config, setConfig] = useState<RoomConfig | null>(null);
  const [status, setStatus] = useState("");
  useEffect(() => void loadRoomConfig(session(), jid).then(setConfig).catch(() => setStatus(t("roomError"))), [jid]);
  if (!config) return status ? <p role="alert" class="error">{status}</p> : <p class="muted">…</p>;
  const text = (k: keyof RoomConfig, label: string) => (
    <label>{label}<input type="text" value={config[k] ?? ""}
      onInput={(e) => setConfig({ ...config, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  const flag = (k: keyof RoomConfig, label: string) => (
    <label class="inline"><input type="checkbox" checked={config[k] === "1" || config[k] === "true"}
      onChange={(e) => setConfig({ ...config, [k]: (e.target as HTMLInputElement).checked ? "1" : "0" })} /> {label}</label>
  );
  const save = async (e: Event) => {
    e.preventDefault();
    setStatus("");
    try {
      await saveRoomConfig(session(), jid, config);
      setStatus(t("saved"));
    } catch {
      setStatus(t("roomError"));
    }
  };
  return (
    <form class="card" onSubmit={save} aria-label={t("roomSettings")}>
      {text("muc#roomconfig_roomname", t("roomName"))}
      {text("muc#roomconfig_roomdesc", t("communityDescription"))}
      {flag("muc#roomconfig_publicroom", t("roomPublic"))}
      {flag("muc#roomconfig_membersonly", t("roomMembersOnly"))}
      {flag("muc#roomconfig_moderatedroom", t("roomModerated"))}
      {flag("muc#roomconfig_persistentroom", t("roomPersistent"))}
      {status && <p role="status">{status}</p>}
      <button type="submit">{t("save")}</button>
    </form>
  );
}

export function RoomView({ jid }: { jid: string }) {
  const st = useStore();
  const [text, setText] = useState("");
  const [configuring, setConfiguring] = useState(false);
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
  const me = room.occupants.get(room.nick);
  const moderator = room.joined && me?.role === "moderator";
  const admin = room.joined && (me?.affiliation === "owner" || me?.affiliation === "admin");
  const act = (f: () => Promise<void>) => () => void f().catch(() => {
    room.error = "not-allowed";
    store.changed();
  });
  const name = "#" + jid.split("@")[0];
  return (
    <section class="conversation" aria-label={name}>
      <header class="row">
        <a href="#/chats" class="button secondary">{t("back")}</a>
        <h2 class="grow">{name}</h2>
        {room.joined && me?.affiliation === "owner" && (
          <button class="secondary" aria-expanded={configuring} onClick={() => setConfiguring(!configuring)}>{t("roomSettings")}</button>
        )}
        {!room.joined && (
          <button class="secondary" onClick={() => void joinRoom(session(), jid, room.nick, false)}>{t("join")}</button>
        )}
        <button class="secondary" onClick={() => { void leaveRoom(session(), jid); location.hash = "#/chats"; }}>{t("leave")}</button>
      </header>
      {configuring && <RoomSettings jid={jid} />}
      {room.subject && <p class="muted">{room.subject}</p>}
      {room.error && (
        <p class="error" role="alert">
          {room.error === "kicked" ? t("roomKicked") : room.error === "banned" ? t("roomBanned") : `${t("roomError")} (${room.error})`}
        </p>
      )}
      <details>
        <summary>{t("occupants")} ({occupants.length})</summary>
        <ul class="occupants">
          {occupants.map((o) => (
            <li key={o.nick} data-nick={o.nick}>
              {o.nick} <span class="muted small">{o.role === "visitor" ? t("roleVisitor") : o.role}</span>
              {moderator && o.nick !== room.nick && (
                <span class="row inline-actions">
                  <button type="button" class="link small" aria-label={`${o.role === "visitor" ? t("giveVoice") : t("revokeVoice")}: ${o.nick}`}
                    onClick={act(() => setRole(session(), jid, o.nick, o.role === "visitor" ? "participant" : "visitor"))}>
                    {o.role === "visitor" ? t("giveVoice") : t("revokeVoice")}
                  </button>
                  <button type="button" class="link small" aria-label={`${t("kick")}: ${o.nick}`}
                    onClick={act(() => setRole(session(), jid, o.nick, "none"))}>{t("kick")}</button>
                  {admin && o.jid && (
                    <button type="button" class="link small" aria-label={`${t("ban")}: ${o.nick}`}
                      onClick={act(() => ban(session(), jid, o.jid!))}>{t("ban")}</button>
                  )}
                </span>
              )}
            </li>
          ))}
        </ul>
      </details>
      <ol class="messages" aria-live="polite">
        {room.messages.map((m) => (
          <li key={m.id} class={m.mine ? "out" : "in"}>
            {!m.mine && <strong class="small">{m.nick}</strong>}
            {m.retracted ? <p class="muted">{t("messageRemoved")}</p> : <><p>{m.body}</p><LinkPreviewCard text={m.body} /></>}
            <span class="muted small">{formatTime(m.stamp)}</span>
            {moderator && m.fromRoomArchive && !m.retracted && (
              <button type="button" class="link small" onClick={act(() => moderate(session(), jid, m.id))}>{t("removeMessage")}</button>
            )}
          </li>
        ))}
      </ol>
      <div ref={end} />
      {room.joined && me?.role === "visitor" && <p class="muted small">{t("noVoice")}</p>}
      <form class="row send" onSubmit={send}>
        <input class="grow" type="text" aria-label={t("message")} placeholder={t("message")} value={text}
          disabled={!room.joined || me?.role === "visitor"}
          onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={!room.joined || me?.role === "visitor"}>{t("send")}</button>
      </form>
    </section>
  );
}
