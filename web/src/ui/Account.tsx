import { useState } from "preact/hooks";
import { session, signOut } from "../app";
import { t } from "../i18n";
import { useStore } from "../store";
import { changePassword, deleteAccount } from "../xmpp/account";

export function Account() {
  const st = useStore();
  const [pw, setPw] = useState("");
  const [again, setAgain] = useState("");
  const [status, setStatus] = useState("");
  const [confirm, setConfirm] = useState("");
  const change = async (e: Event) => {
    e.preventDefault();
    if (pw.length < 8) return setStatus(t("passwordTooShort"));
    if (pw !== again) return setStatus(t("passwordsDiffer"));
    try {
      await changePassword(session(), pw);
      setPw("");
      setAgain("");
      setStatus(t("passwordChanged"));
    } catch {
      setStatus(t("passwordRefused"));
    }
  };
  const remove = async (e: Event) => {
    e.preventDefault();
    if (confirm.trim() !== st.me) return;
    await deleteAccount(session());
    await signOut(true);
  };
  return (
    <>
      <form class="card" onSubmit={change} aria-label={t("changePassword")}>
        <h2>{t("changePassword")}</h2>
        <label>{t("newPassword")}<input type="password" autoComplete="new-password" value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} /></label>
        <label>{t("newPasswordAgain")}<input type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain((e.target as HTMLInputElement).value)} /></label>
        {status && <p role="status">{status}</p>}
        <button type="submit">{t("changePassword")}</button>
      </form>
      <form class="card danger" onSubmit={remove} aria-label={t("deleteAccount")}>
        <h2>{t("deleteAccount")}</h2>
        <p>{t("deleteAccountWarning")}</p>
        <label>{t("typeAddressToConfirm")}<input type="text" value={confirm} onInput={(e) => setConfirm((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" disabled={confirm.trim() !== st.me}>{t("deleteAccount")}</button>
      </form>
    </>
  );
}
