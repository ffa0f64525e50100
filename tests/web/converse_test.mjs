// Issue 5: Converse.js in headless Debian Chromium against a real Causerie. User A logs in over
// WebSocket (RFC 7395), user B over BOSH (XEP-0124/0206) from a page of another origin (so CORS is
// exercised); A adds B, both rosters show the other with a mutual subscription, A sends B a message and
// B sees it in its chat window. A screenshot of each window goes to the --output directory.
// Issue 10: A then chats with C, who is not a contact. Converse opens a chat with a stranger only once it
// has its XEP-0191 blocklist (it adds the stranger as an unsaved contact unless blocked), which it asks
// for only when the server advertises urn:xmpp:blocking: `api.chats.open(jid, {}, true)` completes, and a
// message goes each way.
//
// Issue 12: B answers A; A sends B a picture from Converse's toolbar through XEP-0363 (the upload service
// of Causerie's own HTTP listener): B receives a message carrying its URL, shows the image, and the file
// downloads byte for byte. B's page is then reloaded with an empty browser cache: Converse asks the
// message archive (XEP-0313) and shows the whole conversation again, the picture included.
//
// node tests/web/converse_test.mjs --binary build/causerie [--output DIR]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, freePort, launchBrowser, png, startServer, within } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const binary = path.resolve(arg('--binary', path.join(here, '../../build/causerie')));
const output = path.resolve(arg('--output', path.join(os.tmpdir(), 'causerie-test-output', 'converse')));
fs.mkdirSync(output, { recursive: true });

// Serves the test page and Converse's dist/ on its own port: another origin than the XMPP endpoints.
async function startPages() {
  const dist = path.join(here, 'node_modules/converse.js/dist');
  const types = { '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
                  '.html': 'text/html', '.svg': 'image/svg+xml', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf' };
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/blank') {  // a page of this origin without Converse (reloadWithEmptyCache)
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>blank</title>');
      return;
    }
    let file = url.pathname === '/' ? path.join(here, 'page.html') : null;
    if (url.pathname.startsWith('/dist/')) file = path.join(dist, path.normalize(url.pathname.slice(6)).replace(/^(\.\.[/\\])+/, ''));
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { server, port };
}

async function openUser(name, profile, pageUrl) {
  const user = await launchBrowser(profile, { output, name });
  await user.page.goto(pageUrl);
  return user;
}

// A 24x16 PNG (rows of colour), so that the browser has a real picture to decode.
const picture = () => png(24, 16, (x, y) => [(x * 10) & 255, (y * 16) & 255, 160]);

// Leaves Converse's page, empties what it cached for this origin (IndexedDB, local and session storage),
// and loads the page again: a reload after which nothing of the conversation is known to the browser.
async function reloadWithEmptyCache(page, pageOrigin) {
  const url = page.url();
  await page.goto(`${pageOrigin}/blank`);  // same origin, no Converse: nothing holds its databases open
  await page.evaluate(async () => {
    localStorage.clear();
    sessionStorage.clear();
    for (const db of await indexedDB.databases()) {
      await new Promise((resolve, reject) => {
        const r = indexedDB.deleteDatabase(db.name);
        r.onsuccess = resolve; r.onerror = () => reject(r.error); r.onblocked = () => reject(new Error('blocked'));
      });
    }
  });
  await page.goto(url);
}

const messagesOf = (page, jid) => page.evaluate(async (j) => {
  const chat = await window.causerieApi.chats.get(j);
  return chat ? chat.messages.models.map((m) => ({
    body: m.get('body'), oob_url: m.get('oob_url'), archived: !!m.get('is_archived'), sender: m.get('sender'),
  })) : [];
}, jid);

const contact = (page, jid) => page.evaluate(async (j) => {
  const c = await window.causerieApi?.contacts.get(j);
  return c ? c.get('subscription') : null;
}, jid);

// Converse's state lives in the page, behind an asynchronous API: these wait in the page for a condition on
// it, checked again at each frame the page renders (as Playwright's own waits do); the bound is a failure.
const T = { timeout: 20000 };
const loggedIn = (page) => page.waitForFunction(() => window.causerieApi?.connection.connected(), null, T);
const until = (page, fn, arg, what) => within(page.evaluate(async ([src, a]) => {
  const condition = eval(`(${src})`);  // the test's own function, sent as source
  for (;;) {
    const value = await condition(a);
    if (value) return value;
    await new Promise((r) => requestAnimationFrame(r));
  }
}, [fn.toString(), arg]), T.timeout, what);
const subscribed = (page, jid) => until(page,
  async (j) => (await window.causerieApi?.contacts.get(j))?.get('subscription') === 'both', jid, `${jid}: both`);

async function main() {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'causerie-web-'));
  let server, pages;
  const users = [];
  let failed = 0;
  try {
    server = await startServer({ binary, workdir, output, extra: ['[http]', 'cors_origins = ["*"]', ''] });
    pages = await startPages();
    const a = { jid: 'alice@localhost', pw: 'alice-secret-1' };
    const b = { jid: 'bob@localhost', pw: 'bob-secret-22' };
    const c = { jid: 'carol@localhost', pw: 'carol-secret-333' };
    server.user(a.jid, a.pw);
    server.user(b.jid, b.pw);
    server.user(c.jid, c.pw);
    const ws = `ws://127.0.0.1:${server.web}/xmpp-websocket`;
    const bosh = `http://127.0.0.1:${server.web}/http-bind`;
    const url = (u, transport, endpoint) => `http://127.0.0.1:${pages.port}/?` + new URLSearchParams(
      { jid: u.jid, password: u.pw, transport, endpoint, loglevel: process.env.CONVERSE_LOGLEVEL || 'info' }).toString();

    const A = await openUser('alice-websocket', path.join(workdir, 'profile-a'), url(a, 'ws', ws));
    users.push(A);
    const B = await openUser('bob-bosh', path.join(workdir, 'profile-b'), url(b, 'bosh', bosh));
    users.push(B);
    for (const [who, u] of [['A', A], ['B', B]]) {
      await loggedIn(u.page).catch((e) => { throw new Error(`${who} did not log in: ${e.message}`); });
    }
    const transports = await Promise.all([A, B].map((u) => u.page.evaluate(
      () => window.causerieApi.connection.get().service)));
    check(transports[0].startsWith('ws://') && transports[1].endsWith('/http-bind'), `transports: ${transports}`);

    // A adds B; B's Converse approves (auto_subscribe) and subscribes back.
    await A.page.evaluate((j) => window.causerieApi.contacts.add({ jid: j, name: 'Bob' }), b.jid);
    await subscribed(A.page, b.jid);  // alice -> bob: both
    await subscribed(B.page, a.jid);  // bob -> alice: both
    // And the rosters on screen show each other.
    await A.page.locator('converse-roster').getByText(/bob/i).first().waitFor({ timeout: 15000 });
    await B.page.locator('converse-roster').getByText(/alice/i).first().waitFor({ timeout: 15000 });

    // A opens a chat with B and types a message; B sees it in its chat window.
    const text = `Hello Bob, from a WebSocket at ${Date.now()}`;
    await A.page.evaluate((j) => window.causerieApi.chats.open(j, {}, true), b.jid);
    const box = A.page.locator('textarea.chat-textarea').first();
    await box.waitFor({ timeout: 15000 });
    await box.fill(text);
    await box.press('Enter');
    // B's roster flags the unread message; B opens the conversation as a person would, by clicking Alice.
    await B.page.locator('converse-roster .msgs-indicator').first().waitFor({ timeout: 20000 });
    await B.page.locator('converse-roster a.open-chat', { hasText: /alice/i }).first().click();
    await B.page.locator('converse-chat .chat-msg__text', { hasText: text }).first().waitFor({ timeout: 20000 });
    await A.page.screenshot({ path: path.join(output, 'alice-websocket.png') });
    await B.page.screenshot({ path: path.join(output, 'bob-bosh.png') });
    console.log('PASS converse: websocket and BOSH users subscribed and chatted');

    // A chats with C, who is on nobody's roster (issue 10).
    const C = await openUser('carol-websocket', path.join(workdir, 'profile-c'), url(c, 'ws', ws));
    users.push(C);
    await loggedIn(C.page);
    check(await contact(A.page, c.jid) === null, 'carol is not on alice\'s roster');
    const blocklistSize = (page) => page.evaluate(async () => (await window.causerieApi.blocklist.get()).length);
    check(await within(blocklistSize(A.page), 20000, 'alice\'s blocklist') === 0, 'alice blocks nobody');
    const opened = await within(A.page.evaluate(async (j) => {
      const chat = await window.causerieApi.chats.open(j, {}, true);
      return chat?.get('jid');
    }, c.jid), 20000, 'api.chats.open for a non-contact');
    check(opened === c.jid, `the chat opened is carol's: ${opened}`);
    const toCarol = `Hello Carol, we have not met (${Date.now()})`;
    const aliceBox = A.page.locator(`converse-chat[jid="${c.jid}"] textarea.chat-textarea`);
    await aliceBox.waitFor({ timeout: 15000 });
    await aliceBox.fill(toCarol);
    await aliceBox.press('Enter');
    // C gets a message from a stranger: Converse lists Alice as an unsaved contact with an unread badge.
    await C.page.locator('converse-roster .msgs-indicator').first().waitFor({ timeout: 20000 });
    const back = await within(C.page.evaluate(async (j) => {
      const chat = await window.causerieApi.chats.open(j, {}, true);
      return chat?.get('jid');
    }, a.jid), 20000, 'carol opening the stranger\'s chat');
    check(back === a.jid, `carol's chat is with alice: ${back}`);
    await C.page.locator(`converse-chat[jid="${a.jid}"] .chat-msg__text`, { hasText: toCarol }).first()
      .waitFor({ timeout: 20000 });
    const toAlice = `Hello Alice, nice to meet you (${Date.now()})`;
    const carolBox = C.page.locator(`converse-chat[jid="${a.jid}"] textarea.chat-textarea`);
    await carolBox.fill(toAlice);
    await carolBox.press('Enter');
    await A.page.locator(`converse-chat[jid="${c.jid}"] .chat-msg__text`, { hasText: toAlice }).first()
      .waitFor({ timeout: 20000 });
    await A.page.screenshot({ path: path.join(output, 'alice-non-contact.png') });
    await C.page.screenshot({ path: path.join(output, 'carol-non-contact.png') });
    console.log('PASS converse: a chat with a non-contact opens and carries messages both ways');

    // Issue 12: a reply, then a picture through XEP-0363, then the history from XEP-0313 after a reload.
    const reply = `Hello Alice, BOSH answering at ${Date.now()}`;
    const bobBox = B.page.locator(`converse-chat[jid="${a.jid}"] textarea.chat-textarea`);
    await bobBox.fill(reply);
    await bobBox.press('Enter');
    await A.page.evaluate((j) => window.causerieApi.chats.open(j, {}, true), b.jid);
    await A.page.locator(`converse-chat[jid="${b.jid}"] .chat-msg__text`, { hasText: reply }).first()
      .waitFor({ timeout: 20000 });
    // The toolbar offers a file only once Converse found the upload service (disco#items of the host).
    const png = picture();
    const fileInput = A.page.locator(`converse-chat[jid="${b.jid}"] input.fileupload`);
    await fileInput.waitFor({ state: 'attached', timeout: 20000 });
    await fileInput.setInputFiles({ name: 'causerie-test.png', mimeType: 'image/png', buffer: png });
    const received = await until(B.page, async (j) => {
      const chat = await window.causerieApi.chats.get(j);
      const m = chat?.messages.models.find((x) => x.get('oob_url'));
      return m ? { body: m.get('body'), oob_url: m.get('oob_url') } : null;
    }, a.jid, 'the picture message at bob');
    const web = `http://127.0.0.1:${server.web}/`;
    check(received.oob_url.startsWith(web) && received.oob_url.endsWith('.png'),
      `the URL is on Causerie's HTTP listener: ${received.oob_url}`);
    check(received.body === received.oob_url, `the body is the URL (XEP-0363 §5 with XEP-0066): ${received.body}`);
    const download = await within(fetch(received.oob_url), 20000, 'the download');
    check(download.status === 200, `GET ${received.oob_url}: ${download.status}`);
    check(download.headers.get('content-type') === 'image/png', `content-type ${download.headers.get('content-type')}`);
    check(Buffer.from(await download.arrayBuffer()).equals(png), 'the file downloads byte for byte');
    // Bob's Converse shows it inline: the browser fetched and decoded it from Causerie.
    const shown = B.page.locator(`converse-chat[jid="${a.jid}"] img.chat-image`).first();
    await shown.waitFor({ timeout: 20000 });
    const width = await shown.evaluate((img) => img.decode().then(() => img.naturalWidth));
    check(width === 24, `the picture decoded, ${width} px wide`);
    await A.page.screenshot({ path: path.join(output, 'alice-upload.png') });
    await B.page.screenshot({ path: path.join(output, 'bob-upload.png') });
    console.log('PASS converse: a picture uploaded through XEP-0363 reached bob, shown and downloadable');

    await reloadWithEmptyCache(B.page, `http://127.0.0.1:${pages.port}`);
    await loggedIn(B.page);  // again
    check((await messagesOf(B.page, a.jid)).length === 0, 'nothing of the conversation is cached any more');
    await B.page.evaluate((j) => window.causerieApi.chats.open(j, {}, true), a.jid);
    for (const t of [text, reply]) {
      await B.page.locator(`converse-chat[jid="${a.jid}"] .chat-msg__text`, { hasText: t }).first()
        .waitFor({ timeout: 20000 });
    }
    await B.page.locator(`converse-chat[jid="${a.jid}"] img.chat-image`).first().waitFor({ timeout: 20000 });
    const history = await messagesOf(B.page, a.jid);
    const bodies = history.map((m) => m.body);
    check(bodies.indexOf(text) >= 0 && bodies.indexOf(text) < bodies.indexOf(reply) &&
          bodies.indexOf(reply) < bodies.indexOf(received.oob_url), `the history in order: ${JSON.stringify(bodies)}`);
    check(history.filter((m) => [text, reply, received.oob_url].includes(m.body)).every((m) => m.archived),
      `every one came from the archive: ${JSON.stringify(history)}`);
    check(new Set(bodies).size === bodies.length, `nothing twice: ${JSON.stringify(bodies)}`);
    await B.page.screenshot({ path: path.join(output, 'bob-history-after-reload.png') });
    console.log('PASS converse: after a reload with an empty cache, bob sees the archived history (XEP-0313)');
  } catch (e) {
    failed = 1;
    console.log(`FAIL converse: ${e.stack || e}`);
    for (const [i, u] of users.entries()) {
      try { await u.page.screenshot({ path: path.join(output, `failure-${i}.png`) }); } catch { /* page gone */ }
    }
  } finally {
    for (const u of users) await u.context.close().catch(() => {});
    if (pages) pages.server.close();
    if (server && !(await server.stop())) {
      failed = 1;
      console.log('FAIL the server ignored SIGTERM');
    }
    fs.rmSync(workdir, { recursive: true, force: true });
  }
  console.log(`${1 - failed} passed, ${failed} failed; output in ${output}`);
  process.exit(failed);
}

main();
