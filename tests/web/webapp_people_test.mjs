// Issue 16, the people and account side of Causerie's web app, in headless Chromium against two Causerie
// servers federated on loopback (a.test and b.test, found through a dnsmasq of the test's own; dialback
// over the servers' self-signed certificates). Alice and Bob are on a.test, their app served by its HTTPS
// listener (Chromium told to accept the self-signed certificate); Remy is on b.test.
// - Alice writes her profile with a banner (Movim's urn:xmpp:movim-banner:0) that Bob sees on it;
// - she follows Bob (a local person) and Remy (a remote one) from their profiles: each accepts her contact
//   request, her public subscription (XEP-0465) then lists her among their followers and Bob among her
//   follows, and Remy's next post reaches her feed live over s2s;
// - she blocks Bob (his page shows her offline), finds him still blocked after a reload, unblocks him;
// - she reports a third person, and Bob, the host's admin, receives the report;
// - Remy turns on notifications for two kinds: the browser's push subscription (PushManager, standing in
//   for the browser's push service, which is out of reach here) is registered with b.test's VAPID key and
//   the kinds the server answered are those shown after a reload; a follower push in the server's format
//   is shown as a notification by the service worker;
// - Alice downloads her data (XEP-0227 over HTTPS with her password) and finds her post and contacts in it.
// axe-core scans each new screen; the profile works on a phone; screenshots go to --output.
//
// node tests/web/webapp_people_test.mjs --binary build/causerie [--output DIR]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { check, freePort, launchBrowser, png, startServer, untilOutput } from './harness.mjs';
import { accessibility, pushThroughDevTools, signIn } from './webapp_flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const binary = path.resolve(arg('--binary', path.join(here, '../../build/causerie')));
const output = path.resolve(arg('--output', path.join(os.tmpdir(), 'causerie-test-output', 'webapp-people')));
fs.mkdirSync(output, { recursive: true });
const T = { timeout: 20000 };
const scan = (page, what) => accessibility(page, output, what);
const shot = (page, name) => page.screenshot({ path: path.join(output, name) });

// dnsmasq on a loopback port answering for the two test domains only (SRV for their s2s listeners, A).
async function startDns(workdir, records) {
  const port = await freePort();
  const proc = spawn('/usr/sbin/dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', `--port=${port}`,
    '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=',
    '--local=/test/', `--user=${os.userInfo().username}`, '--log-facility=-', ...records], { stdio: ['ignore', 'pipe', 'pipe'] });
  await untilOutput(proc, path.join(output, 'dnsmasq.log'), 'started, version', 'dnsmasq to start');
  return { port, stop: () => proc.kill('SIGTERM') };
}

// What a browser's PushManager would give: a subscription on a push service (an endpoint on a closed
// loopback port: the server's pushes go nowhere) with a real P-256 key and auth secret, since the server
// checks both. The applicationServerKey the app passes is kept for the test to compare.
function fakePushService(context, endpoint) {
  const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const p256dh = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]).toString('base64url');
  const auth = crypto.randomBytes(16).toString('base64url');
  return context.addInitScript(({ endpoint, p256dh, auth }) => {
    const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)).buffer;
    const make = () => ({
      endpoint, expirationTime: null, options: { userVisibleOnly: true },
      getKey: (name) => bytes(name === 'p256dh' ? p256dh : auth),
      toJSON: () => ({ endpoint, keys: { p256dh, auth } }),
      unsubscribe: async () => { localStorage.removeItem('test.push'); return true; },
    });
    PushManager.prototype.subscribe = async function (options) {
      const key = new Uint8Array(options.applicationServerKey);
      localStorage.setItem('test.push', btoa(String.fromCharCode(...key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
      return make();
    };
    PushManager.prototype.getSubscription = async function () { return localStorage.getItem('test.push') ? make() : null; };
  }, { endpoint, p256dh, auth });
}

async function main() {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'causerie-webapp-people-'));
  const servers = [];
  const browsers = [];
  let dns;
  let failed = 0;
  try {
    const [s2sA, s2sB, httpsA] = [await freePort(), await freePort(), await freePort()];
    dns = await startDns(workdir, ['--host-record=a.test,127.0.0.1', '--host-record=b.test,127.0.0.1',
      `--srv-host=_xmpp-server._tcp.a.test,a.test,${s2sA},0,5`, `--srv-host=_xmpp-server._tcp.b.test,b.test,${s2sB},0,5`]);
    const federated = (s2sPort) => [
      '[[listener]]', 'type = "s2s"', 'address = "127.0.0.1"', `port = ${s2sPort}`, 'tls = "starttls"', '',
      '[dns]', `servers = ["127.0.0.1:${dns.port}"]`, 'timeout_ms = 500', 'tries = 2', '',
      // The servers' certificates are self-signed: dialback (XEP-0220) proves the domains.
      '[s2s]', 'secure_auth = false', ''];
    const baseA = `https://127.0.0.1:${httpsA}`;
    fs.mkdirSync(path.join(workdir, 'a'));
    fs.mkdirSync(path.join(workdir, 'b'));
    fs.mkdirSync(path.join(output, 'a'), { recursive: true });
    fs.mkdirSync(path.join(output, 'b'), { recursive: true });
    const A = await startServer({ binary, workdir: path.join(workdir, 'a'), output: path.join(output, 'a'), extra: [
      '[[host]]', 'name = "a.test"', 'admins = ["bob@a.test"]', '',
      '[[listener]]', 'type = "http"', 'address = "127.0.0.1"', `port = ${httpsA}`, 'tls = "direct"', '',
      ...federated(s2sA),
      '[modules.upload]', `url = "${baseA}"`, ''] });
    servers.push(A);
    const B = await startServer({ binary, workdir: path.join(workdir, 'b'), output: path.join(output, 'b'), extra: [
      '[[host]]', 'name = "b.test"', '', ...federated(s2sB)] });
    servers.push(B);
    const baseB = `http://127.0.0.1:${B.web}`;

    const alice = { jid: 'alice@a.test', pw: 'alice-secret-1' };
    const bob = { jid: 'bob@a.test', pw: 'bob-secret-22' };
    const remy = { jid: 'remy@b.test', pw: 'remy-secret-333' };
    A.user(alice.jid, alice.pw);
    A.user(bob.jid, bob.pw);
    A.user('mallory@a.test', 'mallory-secret-4');
    B.user(remy.jid, remy.pw);

    const tls = ['--ignore-certificate-errors'];
    const Al = await launchBrowser(path.join(workdir, 'profile-alice'), { output, name: 'alice', args: tls });
    browsers.push(Al);
    const Bo = await launchBrowser(path.join(workdir, 'profile-bob'), { output, name: 'bob', args: tls });
    browsers.push(Bo);
    const Re = await launchBrowser(path.join(workdir, 'profile-remy'), { output, name: 'remy' });
    browsers.push(Re);
    await fakePushService(Re.context, `https://127.0.0.1:${await freePort()}/push/remy`);
    const requests = [];
    for (const u of [Al, Re]) u.page.on('request', (r) => requests.push(r.url()));
    const remyReceived = [];
    Re.page.on('websocket', (ws) => ws.on('framereceived', (f) => remyReceived.push(String(f.payload))));
    await Al.page.goto(baseA + '/');
    await Bo.page.goto(baseA + '/');
    await Re.page.goto(baseB + '/');
    await signIn(Al.page, alice.jid, alice.pw);
    await signIn(Bo.page, bob.jid, bob.pw);
    await signIn(Re.page, remy.jid, remy.pw);
    console.log('PASS people: three people signed in on two federated servers (HTTPS for a.test)');

    // Posts that exist before anyone follows (they make the microblog nodes to subscribe to).
    const publish = async (page, text, audience = 'Everyone') => {
      await page.getByRole('link', { name: /News/ }).click();
      await page.getByLabel("What's new?").fill(text);
      await page.getByLabel('Visible to').selectOption({ label: audience });
      await page.getByRole('button', { name: 'Publish' }).click();
      await page.locator('.post', { hasText: text }).waitFor(T);
    };
    const alicePost = `First note from Alice (${Date.now()})`;
    await publish(Al.page, alicePost);
    await publish(Bo.page, `Bob's garden notes (${Date.now()})`, 'My contacts');
    await publish(Re.page, `Remy's first post (${Date.now()})`);

    // Alice's profile: name, bio and a banner (400×100), shown on her edit form.
    await Al.page.getByRole('link', { name: /Settings/ }).click();
    await Al.page.getByLabel('Name', { exact: true }).fill('Alice Liddell');
    await Al.page.getByLabel('About me').fill('Down the rabbit hole.');
    await Al.page.getByRole('button', { name: 'Save', exact: true }).click();
    await Al.page.getByRole('status').getByText(/Saved/).waitFor(T);
    await Al.page.getByLabel('Banner', { exact: true }).setInputFiles({ name: 'banner.png', mimeType: 'image/png',
      buffer: png(400, 100, (x) => [30, 90 + (x % 100), 200]) });
    const ownBanner = Al.page.locator('form img.banner');
    await ownBanner.waitFor(T);
    await Al.page.waitForFunction(() => document.querySelector('form img.banner')?.naturalWidth === 400, null, T);

    const findPerson = async (page, jid) => {
      await page.getByRole('link', { name: /Contacts/ }).click();
      await page.getByLabel('Address of a person (user@server)').fill(jid);
      await page.getByRole('button', { name: 'See the profile' }).click();
      await page.getByRole('heading', { name: jid, level: 2 }).waitFor(T);
    };
    const acceptRequest = async (page, jid) => {
      await page.getByRole('link', { name: /Contacts/ }).click();
      const req = page.locator(`.request[data-jid="${jid}"]`);
      await req.waitFor(T);
      await req.getByRole('button', { name: 'Accept' }).click();
    };
    const followers = (page) => page.locator('section[aria-labelledby=followers-heading]');
    const follows = (page) => page.locator('section[aria-labelledby=follows-heading]');

    // A local person: Alice follows Bob from his profile; his node is for contacts, so her subscription
    // is made once he accepts her request; then she is among his followers and he among her follows.
    await findPerson(Al.page, bob.jid);
    await Al.page.getByRole('button', { name: 'Follow', exact: true }).click();
    await acceptRequest(Bo.page, alice.jid);
    await followers(Al.page).getByRole('link', { name: alice.jid }).waitFor(T);
    await Al.page.getByRole('button', { name: 'Unfollow' }).waitFor(T);
    await Al.page.goto(baseA + '/#/profile/' + encodeURIComponent(alice.jid));
    await follows(Al.page).getByRole('link', { name: bob.jid }).waitFor(T);
    await Al.page.locator('.profile-card img.banner').waitFor(T);
    // Bob, now her contact, sees her banner, name and follows on her profile (read from her PEP service).
    await Bo.page.locator(`.contact[data-jid="${alice.jid}"] a[href^="#/profile/"]`).click();
    await Bo.page.getByRole('heading', { name: 'Alice Liddell', level: 2 }).waitFor(T);
    await Bo.page.waitForFunction(() => document.querySelector('.profile-card img.banner')?.naturalWidth === 400, null, T);
    await follows(Bo.page).getByRole('link', { name: bob.jid }).waitFor(T);
    const blog = await Bo.page.getByRole('link', { name: 'Public blog' }).getAttribute('href');
    check(blog === '/blog/' + alice.jid, `the profile links the public blog: ${blog}`);
    const blogPage = await fetch(`http://127.0.0.1:${A.web}${blog}`);
    check(blogPage.ok && (await blogPage.text()).includes(alicePost), `the public blog shows her public post: ${blogPage.status}`);
    await shot(Bo.page, 'profile-banner.png');
    await scan(Bo.page, 'profile');
    console.log('PASS people: a profile with a banner seen by a contact; follows and followers (XEP-0465) of a local follow; the public blog linked');

    // A remote person: Alice follows Remy on b.test; he accepts; b.test lists her among his followers;
    // his next post reaches her feed live.
    await findPerson(Al.page, remy.jid);
    await Al.page.getByRole('button', { name: 'Follow', exact: true }).click();
    await acceptRequest(Re.page, alice.jid);
    await followers(Al.page).getByRole('link', { name: alice.jid }).waitFor(T);
    await Al.page.getByRole('button', { name: 'Unfollow' }).waitFor(T);
    check(await Al.page.getByRole('link', { name: 'Public blog' }).count() === 0, 'no link to a public page this server does not serve');
    await shot(Al.page, 'remote-profile.png');
    await Al.page.getByRole('link', { name: /News/ }).click();
    const fromRemy = `News from b.test (${Date.now()})`;
    await publish(Re.page, fromRemy);
    await Al.page.locator('.post', { hasText: fromRemy }).waitFor(T);
    await shot(Al.page, 'remote-post-in-feed.png');
    console.log('PASS people: a remote person followed over s2s, listed as followed by b.test, his new post live in the feed');

    // Block, then unblock, from the profile and the contacts page: Bob's page sees Alice go offline and
    // come back; the block survives a reload of Alice's page (the server's blocklist).
    await Al.page.goto(baseA + '/#/profile/' + encodeURIComponent(bob.jid));
    await Al.page.getByRole('button', { name: 'Block', exact: true }).click();
    await Al.page.getByRole('status').getByText(/^Blocked/).waitFor(T);
    await Bo.page.getByRole('link', { name: /Contacts/ }).click();
    await Bo.page.locator(`.contact[data-jid="${alice.jid}"] .dot.offline`).waitFor(T);
    await Al.page.reload();
    await Al.page.getByRole('navigation').waitFor(T);
    await Al.page.getByRole('link', { name: /Contacts/ }).click();
    const blockedBob = Al.page.locator(`.blocked[data-jid="${bob.jid}"]`);
    await blockedBob.waitFor(T);
    await shot(Al.page, 'blocked.png');
    await scan(Al.page, 'contacts-blocked');
    await blockedBob.getByRole('button', { name: 'Unblock' }).click();
    await blockedBob.waitFor({ ...T, state: 'detached' });
    await Bo.page.locator(`.contact[data-jid="${alice.jid}"] .dot.online`).waitFor(T);
    console.log('PASS people: block (kept by the server across a reload) then unblock');

    // A report (XEP-0377) from a profile: the person is blocked and the host's admin, Bob, is told.
    await findPerson(Al.page, 'mallory@a.test');
    await Al.page.getByRole('button', { name: 'Report', exact: true }).click();
    const form = Al.page.getByRole('form', { name: 'Report this person' });
    await form.getByLabel('Reason').selectOption('abuse');
    await form.getByLabel('What happened (optional)').fill('Threats in a chat');
    await shot(Al.page, 'report.png');
    await scan(Al.page, 'report');
    await form.getByRole('button', { name: 'Report and block' }).click();
    await Al.page.getByRole('status').getByText("Reported to your server's administrators, and blocked.").waitFor(T);
    await Bo.page.getByRole('link', { name: /Chats/ }).click();
    await Bo.page.locator('a[href="#/chat/a.test"]').click();
    await Bo.page.locator('.messages li.in', { hasText: `${alice.jid} blocked and reported mallory@a.test for abuse` })
      .filter({ hasText: 'Threats in a chat' }).waitFor(T);
    console.log('PASS people: a report from a profile reaches the host admin');

    // Web Push settings: two kinds saved for Remy's browser with b.test's VAPID key; after a reload the
    // form shows what the server lists; a follower push in the server's format becomes a notification.
    await Re.context.grantPermissions(['notifications'], { origin: baseB });
    await Re.page.getByRole('link', { name: /Settings/ }).click();
    const push = Re.page.getByRole('form', { name: 'Notifications' });
    await push.getByLabel('Messages').check();
    await push.getByLabel('New followers').check();
    await push.getByRole('button', { name: 'Save notifications' }).click();
    await push.getByRole('status').getByText('Notifications saved.').waitFor(T);
    const vapid = remyReceived.map((f) => f.match(/<vapid [^>]*public-key=['"]([^'"]+)/)?.[1]).find(Boolean);
    check(vapid && vapid === await Re.page.evaluate(() => localStorage.getItem('test.push')),
      `the browser subscribed with the server's VAPID key: ${vapid}`);
    const answer = remyReceived.find((f) => f.includes('<subscription') && f.includes('urn:causerie:webpush:0'));
    check(answer && answer.includes('<kind>messages</kind>') && answer.includes('<kind>followers</kind>') && !answer.includes('<kind>likes</kind>'),
      `the server registered the two kinds: ${answer}`);
    await shot(Re.page, 'push-settings.png');
    await scan(Re.page, 'settings-push');
    await Re.page.reload();
    await Re.page.getByRole('navigation').waitFor(T);
    await Re.page.getByRole('link', { name: /Settings/ }).click();
    await push.getByLabel('Messages').waitFor(T);
    await Re.page.waitForFunction(() => document.querySelector('input[name=push-messages]')?.checked, null, T);
    check(await push.getByLabel('New followers').isChecked() && !(await push.getByLabel('Mentions in rooms').isChecked()),
      'after a reload the form shows the kinds the server lists');
    const shown = await pushThroughDevTools(Re, baseB, { type: 'follower', account: remy.jid, from: alice.jid,
      service: remy.jid, node: 'urn:xmpp:microblog:0' });
    check(shown.includes(`${alice.jid} follows you: `), `the follower push became a notification: ${shown}`);
    // In the app's language, not the browser's (English here): the worker reads the choice the page shares.
    await Re.page.getByLabel('Language').selectOption('fr');
    await Re.page.locator('html[data-worker-lang="fr"]').waitFor({ ...T, state: 'attached' });
    const shownFr = await pushThroughDevTools(Re, baseB, { type: 'follower', account: remy.jid, from: bob.jid,
      service: remy.jid, node: 'urn:xmpp:microblog:0' });
    check(shownFr.includes(`${bob.jid} vous suit: `), `the notification in the app's French: ${shownFr}`);
    await Re.page.getByLabel('Langue').selectOption('en');
    await Re.page.locator('html[data-worker-lang="en"]').waitFor({ ...T, state: 'attached' });
    console.log('PASS people: Web Push kinds saved with the server and shown after a reload; a server push shown by the service worker, in the app\'s language');

    // Download my data: a wrong password is refused; the right one gives her XEP-0227 document.
    await Al.page.getByRole('link', { name: /Settings/ }).click();
    const dl = Al.page.getByRole('form', { name: 'Download my data' });
    await dl.getByLabel('Password', { exact: true }).fill('not-my-password');
    await dl.getByRole('button', { name: 'Download my data' }).click();
    await dl.getByRole('status').getByText('Wrong password.').waitFor(T);
    await dl.getByLabel('Password', { exact: true }).fill(alice.pw);
    const [download] = await Promise.all([Al.page.waitForEvent('download', T), dl.getByRole('button', { name: 'Download my data' }).click()]);
    check(download.suggestedFilename() === 'alice@a.test-causerie.xml', `file name: ${download.suggestedFilename()}`);
    const doc = fs.readFileSync(await download.path(), 'utf8');
    for (const want of ['urn:xmpp:pie:0', alicePost, `jid="${bob.jid}"`, `jid="${remy.jid}"`, 'Alice Liddell'])
      check(doc.includes(want) || doc.includes(want.replace(/"/g, "'")), `the download holds ${want}`);
    await dl.getByRole('status').getByText('Your data is downloaded.').waitFor(T);
    await shot(Al.page, 'download.png');
    await scan(Al.page, 'settings-download');
    console.log('PASS people: my data downloaded over HTTPS, with my post and contacts');

    // A phone: the profile with its banner fits the screen, navigation at the bottom; then in French.
    await Al.page.setViewportSize({ width: 390, height: 844 });
    await Al.page.goto(baseA + '/#/profile/' + encodeURIComponent(alice.jid));
    await Al.page.locator('.profile-card img.banner').waitFor(T);
    const nav = await Al.page.getByRole('navigation').boundingBox();
    check(nav && nav.y + nav.height >= 844 - 2, `bottom navigation on a phone: ${JSON.stringify(nav)}`);
    check(await Al.page.evaluate(() => document.documentElement.scrollWidth <= 390), 'nothing wider than the phone');
    await shot(Al.page, 'phone-profile.png');
    await Al.page.getByRole('link', { name: /Settings/ }).click();
    await Al.page.getByLabel('Language').selectOption('fr');
    await Al.page.getByRole('heading', { name: 'Télécharger mes données' }).waitFor(T);
    await Al.page.goto(baseA + '/#/profile/' + encodeURIComponent(alice.jid));
    await Al.page.getByRole('heading', { name: /Abonnements/ }).waitFor(T);
    await Al.page.getByRole('heading', { name: /Abonnés/ }).waitFor(T);
    await shot(Al.page, 'phone-profile-fr.png');
    console.log('PASS people: the profile on a phone, and in French');

    const foreign = requests.filter((u) => !u.startsWith(baseA) && !u.startsWith(`wss://127.0.0.1:${httpsA}`) &&
      !u.startsWith(baseB) && !u.startsWith(`ws://127.0.0.1:${B.web}`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    check(foreign.length === 0, `no third-party request: ${foreign}`);
  } catch (e) {
    failed = 1;
    console.log(`FAIL people: ${e.stack || e}`);
    for (const [i, u] of browsers.entries()) {
      try { await u.page.screenshot({ path: path.join(output, `failure-${i}.png`) }); } catch { /* page gone */ }
    }
  } finally {
    for (const u of browsers) await u.context.close().catch(() => {});
    for (const s of servers) {
      if (!(await s.stop())) {
        failed = 1;
        console.log('FAIL a server ignored SIGTERM');
      }
    }
    dns?.stop();
    fs.rmSync(workdir, { recursive: true, force: true });
  }
  console.log(`${1 - failed} passed, ${failed} failed; output in ${output}`);
  process.exit(failed);
}

main();
