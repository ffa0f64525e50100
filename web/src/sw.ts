// The service worker: makes the app installable, and shows Web Push notifications when the tab is closed.
// Causerie's pushes (docs/protocol/webpush.md) are JSON objects with a `type` (message, mention, comment,
// like, follower), `from` and maybe `body`; anything else with a `title`, `body` and `url` is shown as it
// says. The worker cannot read the page's language choice (localStorage is the page's), so it follows the
// browser's language, in English or French like the app.
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

export function describe(d: Payload): { title: string; body: string; url: string } {
  const T = (self.navigator?.language ?? "en").toLowerCase().startsWith("fr") ? texts.fr : texts.en;
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
  const n = describe(data);
  e.waitUntil((async () => {
    await sw.registration.showNotification(n.title, { body: n.body, data: n.url, icon: "/app/icon.svg", tag: data.type });
    // Open tabs hear of it too (they may refresh what the push was about).
    for (const c of await sw.clients.matchAll({ type: "window" })) c.postMessage({ type: "push", data });
  })());
});

sw.addEventListener("notificationclick", (e) => {
  e.notification.close();
  e.waitUntil(sw.clients.openWindow(String(e.notification.data ?? "/")));
});
