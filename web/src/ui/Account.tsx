import { useEffect, useState } from "preact/hooks";
import { session, signOut } from "../app";
import { t, type Key } from "../i18n";
import { useStore } from "../store";
import { changePassword, deleteAccount, downloadData } from "../xmpp/account";
import { loadPush, PUSH_KINDS, savePush, type PushKind, type PushState } from "../xmpp/webpush";

// Web Push for this browser: which kinds of notification the server sends while no tab is open.
function PushSettings() {
  const [state, setState] = useState<PushState | null>(null);
  const [wanted, setWanted] = useState<Set<PushKind>>(new Set());
  const [status, setStatus] = useState("");
  useEffect(() => {
    void loadPush(session()).then((p) => {
      setState(p);
      setWanted(new Set(p.kinds));
    }).catch(() => setState({ available: false, kinds: [] }));
  }, []);
  if (!state) return null;
  const save = async (e: Event) => {
    e.preventDefault();
    setStatus("");
    try {
      const p = await savePush(session(), PUSH_KINDS.filter((k) => wanted.has(k)), state);
      setState(p);
      setWanted(new Set(p.kinds));
      setStatus(p.kinds.length ? t("pushSaved") : t("pushOff"));
    } catch (err) {
      setStatus((err as Error).message === "permission" ? t("pushDenied") : t("actionFailed"));
    }
  };
  const toggle = (k: PushKind, on: boolean) => {
    const next = new Set(wanted);
    if (on) next.add(k);
    else next.delete(k);
    setWanted(next);
    setStatus("");
  };
  return (
    <form class="card" onSubmit={save} aria-labelledby="push-heading">
      <h2 id="push-heading">{t("pushTitle")}</h2>
      {!state.available && <p class="muted">{t("pushUnavailable")}</p>}
      {state.available && (
        <>
          <fieldset class="kinds">
            <legend>{t("pushHelp")}</legend>
            {PUSH_KINDS.map((k) => (
              <label key={k} class="inline check">
                <input type="checkbox" name={"push-" + k} checked={wanted.has(k)} onChange={(e) => toggle(k, (e.target as HTMLInputElement).checked)} />
                {" "}{t(("push." + k) as Key)}
              </label>
            ))}
          </fieldset>
          {status && <p role="status">{status}</p>}
          <button type="submit">{t("pushSave")}</button>
        </>
      )}
    </form>
  );
}

// "Download my data": the server's XEP-0227 document of the account, asked with the password again.
function DownloadData() {
  const st = useStore();
  const [pw, setPw] = useState("");
  const [status, setStatus] = useState("");
  const [link, setLink] = useState<string | null>(null);
  useEffect(() => () => { if (link) URL.revokeObjectURL(link); }, [link]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setStatus(t("downloadPreparing"));
    try {
      const blob = await downloadData(st.me ?? "", pw);
      setPw("");
      const url = URL.createObjectURL(blob);
      setLink(url);
      setStatus(t("downloadReady"));
      // Start the download at once; the link stays for another copy.
      const a = document.createElement("a");
      a.href = url;
      a.download = fileName(st.me ?? "");
      a.click();
    } catch (err) {
      setStatus(t(("download." + (err as Error).message) as Key) ?? t("actionFailed"));
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="download-heading">
      <h2 id="download-heading">{t("downloadTitle")}</h2>
      <p>{t("downloadHelp")}</p>
      <label>{t("password")}<input type="password" autoComplete="current-password" value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} /></label>
      {status && <p role="status">{status}</p>}
      <div class="row">
        <button type="submit" disabled={!pw}>{t("downloadButton")}</button>
        {link && <a href={link} download={fileName(st.me ?? "")}>{t("downloadAgain")}</a>}
      </div>
    </form>
  );
}

function fileName(jid: string): string {
  return jid.replace(/[^A-Za-z0-9.@_-]/g, "_") + "-causerie.xml";
}

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
      <PushSettings />
      <DownloadData />
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
