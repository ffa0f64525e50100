// Steps of the web app's browser tests: signing in, two users becoming contacts through a request, and a
// first message (the same against Causerie and against Prosody); an axe-core scan; a push message handed to
// the service worker. Each waits for what the page shows, with the tests' usual 20 s bound.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { check } from './harness.mjs';

const T = { timeout: 20000 };

// axe-core (npm) over the page as it is: serious and critical violations fail the test; all of them are
// written to <output>/axe-<what>.json. Evaluated through DevTools, which the page's CSP does not govern.
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export async function accessibility(page, output, what) {
  const result = await page.evaluate(async (src) => {
    (0, eval)(src);
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  }, axeSource);
  fs.writeFileSync(path.join(output, `axe-${what}.json`), JSON.stringify(result, null, 2));
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `accessibility of ${what}: ${JSON.stringify(bad)}`);
}

// Hands `data` (JSON) to the page's service worker as a push message through Chromium's DevTools (the
// browsers' own push services are out of reach here) and returns the notifications it shows then, as
// "title: body". The worker tells open tabs once it has shown one, which is what this waits for.
export async function pushThroughDevTools(user, base, data) {
  await user.context.grantPermissions(['notifications'], { origin: base });
  const cdp = await user.context.newCDPSession(user.page);
  const registration = new Promise((resolve) => cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
    const r = registrations.find((x) => x.scopeURL === base + '/' && !x.isDeleted);
    if (r) resolve(r.registrationId);
  }));
  await cdp.send('ServiceWorker.enable');
  await user.page.evaluate(() => navigator.serviceWorker.ready);
  const registrationId = await registration;
  await user.page.evaluate(() => { window.pushTold = new Promise((resolve) => navigator.serviceWorker.addEventListener('message',
    (e) => { if (e.data?.type === 'push') resolve(true); })); });
  await cdp.send('ServiceWorker.deliverPushMessage', { origin: base, registrationId, data: JSON.stringify(data) });
  await user.page.evaluate(() => window.pushTold);
  await cdp.detach();
  return user.page.evaluate(async () =>
    (await (await navigator.serviceWorker.ready).getNotifications()).map((x) => `${x.title}: ${x.body}`));
}

export async function signIn(page, jid, pw) {
  await page.getByLabel(/Address|Adresse/).fill(jid);
  await page.getByLabel(/^(Password|Mot de passe)$/).fill(pw);
  await page.getByRole('button', { name: /Sign in|Se connecter/ }).click();
  await page.getByRole('navigation').waitFor(T);
}

// A asks B; B accepts (which asks back); both see the other online.
export async function becomeContacts(A, B, a, b) {
  await A.page.getByRole('link', { name: /Contacts/ }).click();
  await A.page.getByLabel('Their address').fill(b.jid);
  await A.page.getByRole('button', { name: 'Add', exact: true }).click();
  await B.page.getByRole('link', { name: /Contacts/ }).click();
  const req = B.page.locator(`.request[data-jid="${a.jid}"]`);
  await req.waitFor(T);
  await req.getByRole('button', { name: 'Accept' }).click();
  await A.page.locator(`.contact[data-jid="${b.jid}"] .dot.online`).waitFor(T);
  await B.page.locator(`.contact[data-jid="${a.jid}"] .dot.online`).waitFor(T);
}

// A opens the chat with B from the contacts and sends `text`; B finds it under Chats.
export async function firstMessage(A, B, a, b, text) {
  await A.page.locator(`.contact[data-jid="${b.jid}"]`).getByRole('link', { name: 'Chat' }).click();
  await A.page.getByLabel('Message').fill(text);
  await A.page.getByRole('button', { name: 'Send', exact: true }).click();
  await B.page.getByRole('link', { name: /Chats/ }).click();
  await B.page.getByRole('link', { name: new RegExp(a.jid) }).click();
  await B.page.locator('.messages li.in', { hasText: text }).waitFor(T);
}

// The image in `locator` has loaded (waiting for its load event, not for time); its natural size and src.
export async function loaded(locator, what) {
  await locator.waitFor({ timeout: 20000 });
  await locator.evaluate((img) => img.complete && img.naturalWidth > 0 ? null
    : new Promise((resolve, reject) => { img.addEventListener('load', resolve, { once: true }); img.addEventListener('error', reject, { once: true }); }))
    .catch(() => { throw new Error(`${what}: the picture did not load`); });
  return locator.evaluate((img) => ({ w: img.naturalWidth, h: img.naturalHeight, src: img.src }));
}
