// The service worker's registration, made once when the page loads (main.tsx): null where the browser has
// no service workers or refused it (a page whose certificate it does not trust, say), so that features
// needing it (Web Push) say they are unavailable instead of waiting for a worker that never comes.
export const registration: Promise<ServiceWorkerRegistration | null> = "serviceWorker" in navigator
  ? navigator.serviceWorker.register("/sw.js").catch(() => null)
  : Promise.resolve(null);
