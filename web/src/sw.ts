// The service worker: makes the app installable, and shows Web Push notifications when the tab is closed.
// Causerie's pushes (docs/protocol/webpush.md) are JSON objects with a `type` (message, mention, comment,
// like, follower), `from` and maybe `body`; anything else with a `title`, `body` and `url` is shown as it
// says. Their texts are in the language chosen in the app, which the page also keeps in Cache Storage for
// this worker (localStorage is the page's alone; i18n.ts), else in the browser's, English or French.
export {};
const sw = self as unknown as ServiceWorkerGlobalScope;

interface Payload {
  type?: string;
  from?: string;
  room?: string;
  body?: string;
  title?: string;
  url?: string;
}

const texts = {
  en: {
    message: "New message", mention: (who: string, room: string) => `${who} mentioned you in ${room}`,
    comment: (who: string) => `${who} commented on your post`, like: (who: string) => `${who} likes your post`,
    follower: (who: string) => `${who} follows you`,
  },
  fr: {
    message: "Nouveau message", mention: (who: string, room: string) => `${who} vous a mentionné dans ${room}`,
    comment: (who: string) => `${who} a commenté votre billet`, like: (who: string) => `${who} aime votre billet`,
    follower: (who: string) => `${who} vous suit`,
  },
};

type Lang = keyof typeof texts;

// The app's choice (i18n.ts writes it), else the browser's language.
async function chosenLang(): Promise<Lang> {
  try {
    const saved = await (await caches.open("causerie-settings")).match("/app/settings/lang");
    const l = saved ? await saved.text() : "";
    if (l === "en" || l === "fr") return l;
  } catch {
    // No Cache Storage (not a secure context): the browser's language.
  }
  return (self.navigator?.language ?? "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

export function describe(d: Payload, lang: Lang): { title: string; body: string; url: string } {
  const T = texts[lang];
  const from = d.from ?? "";
  const bare = from.split("/")[0];
  const route = (r: string, jid: string) => "/#/" + r + "/" + encodeURIComponent(jid);
  switch (d.type) {
    case "message":
      return { title: bare, body: d.body ?? T.message, url: route("chat", bare) };
    case "mention": {
      const room = d.room ?? bare;
      return { title: T.mention(from.slice(from.indexOf("/") + 1) || bare, room), body: d.body ?? "", url: route("room", room) };
    }
    case "comment":
      return { title: T.comment(bare), body: d.body ?? "", url: "/#/feed" };
    case "like":
      return { title: T.like(bare), body: "", url: "/#/feed" };
    case "follower":
      return { title: T.follower(bare), body: "", url: route("profile", bare) };
    default:
      return { title: d.title ?? "Causerie", body: d.body ?? "", url: d.url ?? "/" };
  }
}

sw.addEventListener("install", () => void sw.skipWaiting());
sw.addEventListener("activate", (e) => e.waitUntil(sw.clients.claim()));

sw.addEventListener("push", (e) => {
  let data: Payload = {};
  try {
    data = e.data?.json() ?? {};
  } catch {
    data = { body: e.data?.text() };
  }
  e.waitUntil((async () => {
    const n = describe(data, await chosenLang());
    await sw.registration.showNotification(n.title, { body: n.body, data: n.url, icon: "/app/icon.svg", tag: data.type });
    // Open tabs hear of it too (they may refresh what the push was about).
    for (const c of await sw.clients.matchAll({ type: "window" })) c.postMessage({ type: "push", data });
  })());
});

sw.addEventListener("notificationclick", (e) => {
  e.notification.close();
  e.waitUntil(sw.clients.openWindow(String(e.notification.data ?? "/")));
});
