import { useState } from "preact/hooks";
import { session } from "../app";
import { t } from "../i18n";
import { useStore } from "../store";
import { rosterGroups, setInGroup } from "../xmpp/groups";

// Roster groups, the audiences a post can be meant for: pick a group (or name a new one) and tick the
// contacts in it. Every change is a roster set; the server's roster push updates the list.
export function Groups() {
  const st = useStore();
  const groups = rosterGroups();
  const [group, setGroup] = useState(groups[0] ?? "");
  const [fresh, setFresh] = useState("");
  const [error, setError] = useState("");
  const contacts = [...st.contacts.values()].sort((a, b) => (a.name || a.jid).localeCompare(b.name || b.jid));
  const change = (jid: string, on: boolean) => {
    setError("");
    setInGroup(session(), jid, group, on).catch(() => setError(t("groupChangeFailed")));
  };
  const create = (e: Event) => {
    e.preventDefault();
    const name = fresh.trim();
    if (!name) return;
    setGroup(name);
    setFresh("");
  };
  return (
    <section aria-label={t("groups")} class="groups-view">
      <h2>{t("groups")}</h2>
      <p class="muted small">{t("groupsHelp")}</p>
      <form class="card row" onSubmit={create} aria-label={t("newGroup")}>
        <label class="grow">{t("newGroup")}
          <input type="text" value={fresh} onInput={(e) => setFresh((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t("create")}</button>
      </form>
      {(groups.length > 0 || group) && (
        <div class="card">
          <label>{t("group")}{" "}
            <select value={group} onChange={(e) => setGroup((e.target as HTMLSelectElement).value)}>
              {[...new Set([...groups, group].filter(Boolean))].map((g) => <option key={g} value={g}>{g}</option>)}
            </select>
          </label>
          {group && (
            <fieldset>
              <legend>{t("groupMembers")} {group}</legend>
              {contacts.length === 0 && <p class="muted">{t("noContacts")}</p>}
              {contacts.map((c) => (
                <label class="inline block" key={c.jid} data-jid={c.jid}>
                  <input type="checkbox" checked={c.groups.includes(group)} onChange={(e) => change(c.jid, (e.target as HTMLInputElement).checked)} />{" "}
                  {st.profiles.get(c.jid)?.fn || c.name || c.jid} <span class="muted small">{c.jid}</span>
                </label>
              ))}
            </fieldset>
          )}
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <a href="#/feed">{t("backToFeed")}</a>
    </section>
  );
}
