import { useState } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore } from "../store";
import { addContact, answerRequest, removeContact } from "../xmpp/roster";
import { unblock } from "../xmpp/people";

const ADDRESS = /^[^@/\s]+@[^@/\s]+$/;

// Anyone's profile by address, on this server or another: where to follow, block or report them.
function FindPerson() {
  const [jid, setJid] = useState("");
  const open = (e: Event) => {
    e.preventDefault();
    if (ADDRESS.test(jid.trim())) location.hash = "#/profile/" + encodeURIComponent(jid.trim().toLowerCase());
  };
  return (
    <form class="card row" onSubmit={open} aria-label={t("findPerson")}>
      <input type="text" placeholder={t("personAddress")} aria-label={t("personAddress")} value={jid}
        onInput={(e) => setJid((e.target as HTMLInputElement).value)} />
      <button type="submit">{t("openProfile")}</button>
    </form>
  );
}

function Blocked() {
  const st = useStore();
  if (st.blocked.size === 0) return null;
  return (
    <section class="card" aria-labelledby="blocked-heading">
      <h2 id="blocked-heading">{t("blockedTitle")}</h2>
      <ul class="list">
        {[...st.blocked].sort().map((j) => (
          <li key={j} class="row blocked" data-jid={j}>
            <span class="grow">{j}</span>
            <button class="secondary" onClick={() => void unblock(session(), j)} aria-label={t("unblock") + " " + j}>{t("unblock")}</button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Contacts() {
  const st = useStore();
  const [jid, setJid] = useState("");
  const [name, setName] = useState("");
  const add = async (e: Event) => {
    e.preventDefault();
    if (!ADDRESS.test(jid.trim())) return;
    await addContact(session(), jid.trim(), name.trim());
    setJid("");
    setName("");
  };
  const contacts = [...st.contacts.values()].sort((a, b) => (a.name || a.jid).localeCompare(b.name || b.jid));
  return (
    <section aria-label={t("contacts")}>
      {st.requests.length > 0 && (
        <div class="card" aria-label={t("requests")}>
          <h2>{t("requests")}</h2>
          {st.requests.map((r) => (
            <div class="row request" key={r} data-jid={r}>
              <span>{r}</span>
              <button onClick={() => void answerRequest(session(), r, true)}>{t("accept")}</button>
              <button class="secondary" onClick={() => void answerRequest(session(), r, false)}>{t("refuse")}</button>
            </div>
          ))}
        </div>
      )}
      <form class="card row" onSubmit={add} aria-label={t("addContact")}>
        <input type="text" placeholder={t("contactAddress")} aria-label={t("contactAddress")} value={jid}
          onInput={(e) => setJid((e.target as HTMLInputElement).value)} />
        <input type="text" placeholder={t("contactName")} aria-label={t("contactName")} value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit">{t("add")}</button>
      </form>
      <FindPerson />
      {contacts.length === 0 && <p class="muted">{t("noContacts")}</p>}
      <ul class="list">
        {contacts.map((c) => (
          <li key={c.jid} class="contact" data-jid={c.jid}>
            <span class={"dot " + c.presence} aria-hidden="true" />
            <span class="grow">
              <a href={"#/profile/" + encodeURIComponent(c.jid)}>{st.profiles.get(c.jid)?.fn || c.name || c.jid}</a>{" "}
              <span class="muted">{c.name ? c.jid : ""}</span>
              <span class="muted small"> {c.pendingOut ? t("waiting") : t(c.presence)}</span>
            </span>
            <a class="button" href={"#/chat/" + encodeURIComponent(c.jid)}>{t("chatWith")}</a>
            <button class="secondary" onClick={() => void removeContact(session(), c.jid)} aria-label={t("remove") + " " + c.jid}>×</button>
          </li>
        ))}
      </ul>
      <Blocked />
    </section>
  );
}
