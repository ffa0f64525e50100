import { signOut } from "../app";
import { currentLang, setLang, t, type Lang } from "../i18n";
import { useStore } from "../store";
import { currentTheme, setTheme, type Theme } from "../theme";
import { EditProfile } from "./Profile";
import { Account } from "./Account";

export function Settings() {
  const st = useStore();
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
      <button class="secondary" onClick={() => void signOut()}>{t("signOut")}</button>
    </section>
    <Account />
    </>
  );
}
