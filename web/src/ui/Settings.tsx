import { useState } from "preact/hooks";
import { session, signOut } from "../app";
import { signOutEverywhere } from "../xmpp/account";
import { currentLang, setLang, t, type Lang } from "../i18n";
import { useStore } from "../store";
import { currentTheme, setTheme, type Theme } from "../theme";
import { EditProfile } from "./Profile";
import { Account } from "./Account";

export function Settings() {
  const st = useStore();
  const [status, setStatus] = useState("");
  const everywhere = async () => {
    setStatus("");
    try {
      await signOutEverywhere(session());
      await signOut(true);
    } catch {
      setStatus(t("signOutEverywhereFailed"));
    }
  };
  return (
    <>
    <EditProfile />
    <section class="card" aria-label={t("settings")}>
      <p>{t("signedInAs")} <strong>{st.me}</strong></p>
      <p><a href={"/blog/" + st.me}>{t("publicBlog")}</a></p>
      <label>
        {t("language")}{" "}
        <select name="lang" value={currentLang()} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
          <option value="en">English</option>
          <option value="fr">Français</option>
        </select>
      </label>
      <label>
        {t("theme")}{" "}
        <select name="theme" value={currentTheme()} onChange={(e) => setTheme((e.target as HTMLSelectElement).value as Theme)}>
          <option value="auto">{t("themeAuto")}</option>
          <option value="light">{t("themeLight")}</option>
          <option value="dark">{t("themeDark")}</option>
        </select>
      </label>
      <p><a href={"#/profile/" + encodeURIComponent(st.me ?? "")}>{t("myProfile")}</a></p>
      <div class="row">
        <button class="secondary" onClick={() => void signOut(true)}>{t("signOut")}</button>
        <button class="secondary" onClick={() => void everywhere()} aria-describedby="everywhere-help">{t("signOutEverywhere")}</button>
      </div>
      <p id="everywhere-help" class="muted small">{t("signOutEverywhereHelp")}</p>
      {status && <p role="alert" class="error">{status}</p>}
    </section>
    <Account />
    </>
  );
}
