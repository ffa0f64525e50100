// The service worker: makes the app installable, and shows Web Push notifications when the tab is closed
// (the payload is a JSON {title, body, url}; the server side of Web Push comes with the social services).
export {};
const sw = self as unknown as ServiceWorkerGlobalScope;

sw.addEventListener("install", () => void sw.skipWaiting());
sw.addEventListener("activate", (e) => e.waitUntil(sw.clients.claim()));

sw.addEventListener("push", (e) => {
  let data: { title?: string; body?: string; url?: string } = {};
  try {
    data = e.data?.json() ?? {};
  } catch {
    data = { body: e.data?.text() };
  }
  e.waitUntil((async () => {
    await sw.registration.showNotification(data.title ?? "Causerie", { body: data.body ?? "", data: data.url ?? "/", icon: "/app/icon.svg" });
    // Open tabs hear of it too (they may refresh what the push was about).
    for (const c of await sw.clients.matchAll({ type: "window" })) c.postMessage({ type: "push", data });
  })());
});

sw.addEventListener("notificationclick", (e) => {
  e.notification.close();
  e.waitUntil(sw.clients.openWindow(String(e.notification.data ?? "/")));
});
