import { useEffect, useState } from "preact/hooks";
import { resume, signIn } from "../app";
import { t, type Key } from "../i18n";
import { useStore } from "../store";

export function Login() {
  const st = useStore();
  // ?jid= comes from the page that created the account (an invitation), else the last address used here.
  const [address, setAddress] = useState(new URLSearchParams(location.search).get("jid") ?? localStorage.getItem("causerie.jid") ?? "");
  const [password, setPassword] = useState("");
  useEffect(() => void resume(), []);
  const submit = (e: Event) => {
    e.preventDefault();
    void signIn(address, { password }).then(() => setPassword(""));
  };
  return (
    <main class="login">
      <h1>{t("appName")}</h1>
      <form onSubmit={submit} aria-label={t("signIn")}>
        <label>
          {t("address")}
          <input name="jid" type="text" autoComplete="username" required value={address}
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t("password")}
          <input name="password" type="password" autoComplete="current-password" required value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        {st.error && <p class="error" role="alert">{t(("error." + st.error) as Key) ?? st.error}</p>}
        <button type="submit" disabled={st.connecting}>{st.connecting ? t("connecting") : t("signIn")}</button>
      </form>
    </main>
  );
}
