// Issue 16: Causerie's own web app (web/, embedded in the binary and served at "/") in headless Chromium.
// Alice and Bob sign in from the page the server serves, become contacts through a request Bob accepts,
// chat, and Alice finds the conversation again from the archive after reloading the page. Alice posts one
// entry for her contacts and one for everyone: Bob's feed shows both as they are published, the public
// page shows only the second. Bob switches to French; a phone-sized window gets the bottom navigation.
// The page's headers (CSP, caching, compression) are checked from Node. Screenshots go to --output.
//
// node tests/web/webapp_test.mjs --binary build/causerie [--output DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, launchBrowser, png, startServer } from './harness.mjs';
import { accessibility as axeScan, becomeContacts, firstMessage, loaded, pushThroughDevTools, signIn } from './webapp_flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const binary = path.resolve(arg('--binary', path.join(here, '../../build/causerie')));
const output = path.resolve(arg('--output', path.join(os.tmpdir(), 'causerie-test-output', 'webapp')));
fs.mkdirSync(output, { recursive: true });
const T = { timeout: 20000 };
const accessibility = (page, what) => axeScan(page, output, what);

const redSquarePng = (size) => png(size, size, () => [220, 30, 30]);

async function checkHeaders(base) {
  const index = await fetch(base + '/', { headers: { 'Accept-Encoding': 'gzip' } });
  check(index.status === 200, `GET / answered ${index.status}`);
  const csp = index.headers.get('content-security-policy') ?? '';
  check(csp.includes("default-src 'none'") && csp.includes("script-src 'self'") && !csp.includes('unsafe'),
    `strict CSP on the page: ${csp}`);
  check(index.headers.get('cache-control') === 'no-cache', 'the page revalidates');
  const html = await index.text();
  const js = html.match(/src="(\/app\/main-[A-Z0-9]+\.js)"/)?.[1];
  check(js, 'the page loads a hashed bundle');
  const bundle = await fetch(base + js, { headers: { 'Accept-Encoding': 'gzip' } });
  check(bundle.status === 200 && /immutable/.test(bundle.headers.get('cache-control') ?? ''), 'hashed assets are immutable');
  const etag = bundle.headers.get('etag');
  const again = await fetch(base + js, { headers: { 'If-None-Match': etag } });
  check(again.status === 304, `If-None-Match answered ${again.status}`);
  const missing = await fetch(base + '/app/nothing-here.js');
  check(missing.status === 404, 'unknown files are 404');
}

async function main() {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'causerie-webapp-'));
  let server;
  const browsers = [];
  let failed = 0;
  try {
    // Feed pages of two entries, so that "More" has something to do with a few posts.
    server = await startServer({ binary, workdir, output,
      extra: ['[modules.mam]', 'default = "always"', '', '[modules.pubsub]', 'feed_page = 2', ''] });
    const base = `http://127.0.0.1:${server.web}`;
    await checkHeaders(base);
    console.log('PASS webapp: served with a strict CSP, hashed immutable assets, ETags');

    const a = { jid: 'alice@localhost', pw: 'alice-secret-1' };
    const b = { jid: 'bob@localhost', pw: 'bob-secret-22' };
    server.user(a.jid, a.pw);
    server.user(b.jid, b.pw);
    const A = await launchBrowser(path.join(workdir, 'profile-a'), { output, name: 'alice' });
    browsers.push(A);
    const B = await launchBrowser(path.join(workdir, 'profile-b'), { output, name: 'bob' });
    browsers.push(B);
    const requests = [];
    A.page.on('request', (r) => requests.push(r.url()));
    // What Bob's page sends over XMPP, to see the protocol behind a click.
    const bobSent = [];
    B.page.on('websocket', (ws) => ws.on('framesent', (f) => bobSent.push(String(f.payload))));
    await A.page.goto(base + '/');
    await B.page.goto(base + '/');
    await A.page.screenshot({ path: path.join(output, 'sign-in.png') });
    await accessibility(A.page, 'sign-in');
    // A wrong password is refused with a message, and the form stays.
    await A.page.getByLabel(/Address/).fill(a.jid);
    await A.page.getByLabel(/^Password$/).fill('wrong');
    await A.page.getByRole('button', { name: 'Sign in' }).click();
    await A.page.getByRole('alert').getByText('Wrong address or password.').waitFor(T);
    await signIn(A.page, a.jid, a.pw);
    await signIn(B.page, b.jid, b.pw);
    console.log('PASS webapp: sign-in (a wrong password refused first)');

    // Alice asks Bob; Bob accepts, which also asks Alice back; both show as contacts.
    await becomeContacts(A, B, a, b);
    await B.page.screenshot({ path: path.join(output, 'contacts.png') });
    console.log('PASS webapp: contact request accepted, presence shown both ways');

    // A chat, both ways.
    const hello = `Hello Bob (${Date.now()})`;
    await firstMessage(A, B, a, b, hello);
    const reply = `Hi Alice! (${Date.now()})`;
    await B.page.getByLabel('Message').fill(reply);
    await B.page.getByRole('button', { name: 'Send', exact: true }).click();
    await A.page.locator('.messages li.in', { hasText: reply }).waitFor(T);
    await A.page.locator('.messages li.out', { hasText: 'delivered' }).first().waitFor(T);
    // A picture: uploaded (XEP-0363), described by the server's media service and shared as a message
    // with its thumbnail (XEP-0447, beside XEP-0066 for other clients); Bob's page shows the thumbnail,
    // linking to the original.
    await A.page.locator('.send input[type=file]').setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: redSquarePng(32) });
    const pic = await loaded(B.page.locator('.messages li.in img.shared'), 'the shared picture');
    check(pic.w === 32 && pic.src.includes('/thumb/'), `the picture shows by its thumbnail: ${JSON.stringify(pic)}`);
    const original = await B.page.locator('.messages li.in a.picture').getAttribute('href');
    check(original && original !== pic.src && !original.includes('/thumb/'), `the thumbnail links to the original: ${original}`);
    console.log('PASS webapp: 1:1 chat both ways with receipts');

    // Typing (XEP-0085), seen (XEP-0333), a correction (XEP-0308), a reply (XEP-0461) and a reaction
    // (XEP-0444), each shown on the other side.
    const typing = B.page.locator('.typing', { hasText: 'is typing…' });
    await A.page.getByLabel('Message').fill('Are you');
    await typing.waitFor(T);
    await A.page.getByLabel('Message').fill('Are you free tonight?');
    await A.page.getByRole('button', { name: 'Send', exact: true }).click();
    await B.page.locator('.messages li.in', { hasText: 'Are you free tonight?' }).waitFor(T);
    await typing.waitFor({ ...T, state: 'detached' });
    await A.page.locator('.messages li.out', { hasText: 'Are you free tonight?' }).locator('span', { hasText: 'seen' }).waitFor(T);
    await A.page.locator('.messages li.out').last().getByRole('button', { name: 'Edit' }).click();
    await A.page.getByText('Editing your last message').waitFor(T);
    check(await A.page.getByLabel('Message').inputValue() === 'Are you free tonight?', 'editing starts from the last message');
    await A.page.getByLabel('Message').fill('Are you free tomorrow?');
    await A.page.getByRole('button', { name: 'Save', exact: true }).click();
    const corrected = B.page.locator('.messages li.in', { hasText: 'Are you free tomorrow?' });
    await corrected.locator('span', { hasText: 'edited' }).waitFor(T);
    check(await B.page.locator('.messages li', { hasText: 'tonight' }).count() === 0, 'the correction replaced the message');
    await corrected.getByRole('button', { name: 'Reply' }).click();
    await B.page.getByText('Replying to « Are you free tomorrow? »').waitFor(T);
    await B.page.getByLabel('Message').fill('Yes, after six');
    await B.page.getByRole('button', { name: 'Send', exact: true }).click();
    const answered = A.page.locator('.messages li.in', { hasText: 'Yes, after six' });
    await answered.locator('blockquote.reply', { hasText: 'Are you free tomorrow?' }).waitFor(T);
    check(await answered.locator('p').innerText() === 'Yes, after six', 'the fallback quote is not shown twice');
    await answered.getByRole('button', { name: 'React' }).click();
    await answered.getByRole('group', { name: 'React' }).getByRole('button', { name: '👍' }).click();
    await B.page.locator('.messages li.out', { hasText: 'Yes, after six' }).getByRole('button', { name: '👍 1' }).waitFor(T);
    await A.page.screenshot({ path: path.join(output, 'chat.png') });
    await accessibility(A.page, 'chat');
    console.log('PASS webapp: typing, seen, a correction, a reply and a reaction, both ways');

    // XEP-0484 FAST: the password sign-in brought a token, which is all the page keeps; after a reload the
    // page signs in with it by itself, and the history comes from the archive.
    const kept = await A.page.evaluate(() => JSON.stringify(localStorage));
    check(!kept.includes(a.pw), 'the password is not stored');
    const token = await A.page.evaluate(() => JSON.parse(localStorage.getItem('causerie.fast') ?? 'null'));
    check(token?.jid === a.jid && token?.mechanism === 'HT-SHA-256-NONE' && token?.token, `a FAST token is kept: ${kept}`);
    check(/HT-SHA-256-NONE .*Causerie web/.test(server.cli('user', 'tokens', a.jid)), 'the server lists the web app\'s token');
    await A.page.reload();
    await A.page.getByRole('navigation').waitFor(T);
    await A.page.locator('.messages li.out', { hasText: hello }).waitFor(T);
    check(server.cli('user', 'tokens', a.jid).includes(' in-use '), 'the token was used');
    // The archive gives the corrected text, and the reply with what it answers.
    await A.page.locator('.messages li.out', { hasText: 'Are you free tomorrow?' }).waitFor(T);
    check(await A.page.locator('.messages li', { hasText: 'tonight' }).count() === 0, 'the correction from the archive');
    await A.page.locator('.messages li.in', { hasText: 'Yes, after six' }).locator('blockquote.reply', { hasText: 'tomorrow' }).waitFor(T);
    console.log('PASS webapp: FAST token kept instead of the password, signed in with it after a reload');
    check(A.page.url().includes('#/chat/'), `the page kept its place: ${A.page.url()}`);
    await A.page.locator('.messages li.out', { hasText: hello }).waitFor(T);
    await A.page.locator('.messages li.in', { hasText: reply }).waitFor(T);
    console.log('PASS webapp: chat history from the archive after a reload');

    // Posts: one for contacts, one for everyone; Bob's feed gets both live.
    await A.page.getByRole('link', { name: /News/ }).click();
    await B.page.getByRole('link', { name: /News/ }).click();
    // Markdown with a preview; raw HTML stays text.
    await A.page.getByLabel("What's new?").fill('Some **bold** words <b>raw</b> [x](javascript:alert(1))');
    await A.page.getByRole('button', { name: 'Preview' }).click();
    await A.page.locator('.preview strong', { hasText: 'bold' }).waitFor(T);
    check(await A.page.locator('.preview b').count() === 0 && (await A.page.locator('.preview').innerText()).includes('<b>raw</b>'),
      'raw HTML is shown as text');
    check(await A.page.locator('.preview a[href^="javascript"]').count() === 0, 'no javascript: link');
    await A.page.getByRole('button', { name: 'Edit' }).click();
    await A.page.getByLabel("What's new?").fill('');
    const secret = `For my contacts only ${Date.now()}`;
    const open = `Hello world ${Date.now()}`;
    for (const [text, audience] of [[secret, 'My contacts'], [open, 'Everyone']]) {
      if (text === open) {
        await A.page.locator('.composer input[type=file]').setInputFiles({ name: 'garden.png', mimeType: 'image/png', buffer: redSquarePng(48) });
        await A.page.locator('.composer img.thumb').waitFor(T);
      }
      await A.page.getByLabel("What's new?").fill(text);
      await A.page.getByLabel('Visible to').selectOption({ label: audience });
      await A.page.getByRole('button', { name: 'Publish' }).click();
      await A.page.locator('.post', { hasText: text }).waitFor(T);
    }
    await B.page.locator('.post', { hasText: secret }).waitFor(T);
    await B.page.locator('.post', { hasText: open }).waitFor(T);
    const postImage = B.page.locator('.post', { hasText: open }).locator('img.shared');
    await postImage.waitFor(T);
    check(await postImage.evaluate((img) => img.complete && img.naturalWidth === 48), 'the post\'s picture shows for Bob');
    // Bob likes the public post and comments on the other; Alice, following her posts' discussions, sees
    // both arrive. A second like from Bob is not offered.
    const bobOpen = B.page.locator('.post', { hasText: open });
    await bobOpen.locator('button.like').click();
    await bobOpen.locator('button.like .count', { hasText: '1' }).waitFor(T);
    check(await bobOpen.locator('button.like').isDisabled(), 'one like per person');
    // The server offers XEP-0470: the like is Bob's attachment (item id his bare JID), not a "♥" comment.
    check(bobSent.some((f) => f.includes('urn:xmpp:pubsub-attachments:1/xmpp:alice@localhost?;node=urn%3Axmpp%3Amicroblog%3A0')
      && f.includes(`id="${b.jid}"`) && f.includes('<noticed')), 'the like is a XEP-0470 attachment');
    const bobSecret = B.page.locator('.post', { hasText: secret });
    await bobSecret.getByRole('button', { name: /Comments/ }).click();
    const remark = `Lovely! (${Date.now()})`;
    await bobSecret.getByLabel('Write a comment').fill(remark);
    await bobSecret.getByRole('button', { name: 'Send', exact: true }).click();
    await bobSecret.locator('.comments li', { hasText: remark }).waitFor(T);
    await A.page.locator('.post', { hasText: open }).locator('button.like .count', { hasText: '1' }).waitFor(T);
    const aliceSecret = A.page.locator('.post', { hasText: secret });
    await aliceSecret.getByRole('button', { name: /Comments \(1\)/ }).waitFor(T);
    await aliceSecret.getByRole('button', { name: /Comments/ }).click();
    await aliceSecret.locator('.comments li', { hasText: remark }).waitFor(T);
    console.log('PASS webapp: a like counted once and a comment, seen live by the author');
    await B.page.screenshot({ path: path.join(output, 'feed.png') });
    await accessibility(B.page, 'feed');
    await accessibility(A.page, 'feed-author');
    const blog = await (await fetch(`${base}/blog/${a.jid}`)).text();
    check(blog.includes(open) && !blog.includes(secret), 'the public page shows the public post only');
    console.log('PASS webapp: posts for contacts and for everyone, live in the contact\'s feed; public page right');

    // A room: Alice creates it by joining, Bob joins, they talk; after a reload Alice is back in it (her
    // XEP-0402 bookmark) with the room's history.
    await A.page.getByRole('link', { name: /Chats/ }).click();
    await A.page.getByLabel('Room (name or address)').fill('family');
    await A.page.getByRole('button', { name: 'Join', exact: true }).click();
    await A.page.getByRole('heading', { name: '#family' }).waitFor(T);
    await A.page.locator('input[aria-label="Message"]:not([disabled])').waitFor(T);
    await B.page.getByRole('link', { name: /Chats/ }).click();
    await B.page.getByLabel('Room (name or address)').fill('family@conference.localhost');
    await B.page.getByRole('button', { name: 'Join', exact: true }).click();
    await B.page.locator('input[aria-label="Message"]:not([disabled])').waitFor(T);
    const inRoom = `Dinner at eight? (${Date.now()})`;
    await A.page.getByLabel('Message').fill(inRoom);
    await A.page.getByRole('button', { name: 'Send', exact: true }).click();
    await B.page.locator('.messages li.in', { hasText: inRoom }).waitFor(T);
    const answer = `Yes! (${Date.now()})`;
    await B.page.getByLabel('Message').fill(answer);
    await B.page.getByRole('button', { name: 'Send', exact: true }).click();
    await A.page.locator('.messages li.in', { hasText: answer }).waitFor(T);
    await A.page.screenshot({ path: path.join(output, 'room.png') });
    await accessibility(A.page, 'room');
    await A.page.reload();
    await A.page.getByRole('navigation').waitFor(T);
    await A.page.locator('.messages li', { hasText: answer }).waitFor(T);
    console.log('PASS webapp: a room created, joined by a contact, messages both ways, back after a reload');


    // Profiles: Alice writes her name and bio and picks a picture; Bob sees them on her profile page.
    await A.page.getByRole('link', { name: /Settings/ }).click();
    await A.page.getByLabel('Name', { exact: true }).fill('Alice Liddell');
    await A.page.getByLabel('About me').fill('Curiouser and curiouser.');
    await A.page.getByRole('button', { name: 'Save', exact: true }).click();
    await A.page.getByRole('status').getByText('Saved.').waitFor(T);
    const png = redSquarePng(8);
    await A.page.getByLabel('Picture', { exact: true }).setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    await A.page.locator('form[aria-label="My profile"] img.avatar').waitFor(T);
    await B.page.getByRole('link', { name: /Contacts/ }).click();
    await B.page.locator(`.contact[data-jid="${a.jid}"]`).getByRole('link', { name: 'Alice Liddell' }).click();
    await B.page.getByRole('heading', { name: 'Alice Liddell' }).waitFor(T);
    await B.page.getByText('Curiouser and curiouser.').waitFor(T);
    await B.page.locator('.profile img.avatar').waitFor(T);
    await B.page.locator('.post', { hasText: open }).waitFor(T);
    await B.page.screenshot({ path: path.join(output, 'profile.png') });
    await accessibility(B.page, 'profile');
    console.log('PASS webapp: a profile (vCard4 name and bio, XEP-0084 picture) written and seen by a contact');

    // A community: Alice creates it, Bob finds it in Explore, subscribes and posts; Alice sees the post
    // arrive, and the community's public page has it.
    await A.page.getByRole('link', { name: /Communities/ }).click();
    const create = A.page.getByRole('form', { name: 'Create a community' });
    await create.getByLabel(/Short name/).fill('gardening');
    await create.getByLabel('Title').fill('Gardening');
    await create.getByLabel('Description').fill('Tomatoes and such');
    await create.getByRole('button', { name: 'Create' }).click();
    await A.page.getByRole('heading', { name: 'Gardening' }).waitFor(T);
    await B.page.getByRole('link', { name: /Communities/ }).click();
    await B.page.locator('.communities li[data-node="gardening"]', { hasText: 'Tomatoes and such' }).waitFor(T);
    await B.page.locator('.communities li[data-node="gardening"] a').click();
    await B.page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await B.page.getByRole('button', { name: 'Unsubscribe' }).waitFor(T);
    const tip = `Water early (${Date.now()})`;
    await B.page.getByLabel("What's new?").fill(tip);
    await B.page.getByRole('button', { name: 'Publish' }).click();
    await B.page.locator('.post', { hasText: tip }).waitFor(T);
    await A.page.locator('.post', { hasText: tip }).waitFor(T);
    await A.page.screenshot({ path: path.join(output, 'community.png') });
    await accessibility(A.page, 'community');
    const page = await (await fetch(`${base}/blog/community/gardening@pubsub.localhost`)).text();
    check(page.includes(tip), 'the community page shows the post');
    console.log('PASS webapp: a community created, found, subscribed to and posted in; its public page');

    // A community for approved subscribers (XEP-0060 §8.6, §8.8–8.9): Bob asks, Alice refuses; Bob asks
    // again, Alice approves, sees him among the members and makes him a publisher.
    await A.page.getByRole('link', { name: /Communities/ }).click();
    const club = A.page.getByRole('form', { name: 'Create a community' });
    await club.getByLabel(/Short name/).fill('book-club');
    await club.getByLabel('Title').fill('Book club');
    await club.getByLabel('Who may read').selectOption({ label: 'Subscribers I approve' });
    await club.getByRole('button', { name: 'Create' }).click();
    await A.page.getByRole('heading', { name: 'Book club' }).waitFor(T);
    const members = A.page.getByRole('region', { name: 'Members' });
    await members.locator(`li[data-jid="${a.jid}"]`).waitFor(T);
    await B.page.evaluate(() => { location.hash = '#/community/pubsub.localhost/book-club'; });
    await B.page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await B.page.getByText('Subscription requested; the owner will answer.').waitFor(T);
    await members.getByRole('button', { name: `Refuse: ${b.jid}` }).click();
    await B.page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await members.getByRole('button', { name: `Approve: ${b.jid}` }).click();
    await B.page.getByRole('button', { name: 'Unsubscribe' }).waitFor(T);
    await members.getByRole('button', { name: 'Refresh' }).click();
    await members.locator(`li[data-jid="${b.jid}"]`, { hasText: 'subscribed' }).waitFor(T);
    await members.getByLabel(`Role: ${b.jid}`).selectOption('publisher');
    await members.getByRole('button', { name: 'Refresh' }).click();
    await A.page.waitForFunction((jid) => document.querySelector(`li[data-jid="${jid}"] select`)?.value === 'publisher', b.jid, T);
    await A.page.screenshot({ path: path.join(output, 'community-members.png') });
    await accessibility(A.page, 'community-members');
    console.log('PASS webapp: a community needing approval: a request refused, another approved, the member made a publisher');

    // The server's news feed (urn:causerie:feed:0), in pages of two: after a reload Bob's feed shows the
    // two newest entries (the community post and Alice's public post, his like remembered and counted by
    // the server), "More" brings the older one, filters ask the server again, and a post mentioning Bob
    // arrives live under "Mentions".
    await B.page.reload();
    await B.page.getByRole('navigation').waitFor(T);
    await B.page.getByRole('link', { name: /News/ }).click();
    await B.page.locator('.post', { hasText: tip }).waitFor(T);
    const again = B.page.locator('.post', { hasText: open });
    await again.locator('button.like[aria-pressed="true"] .count', { hasText: '1' }).waitFor(T);
    check(await B.page.locator('.post', { hasText: secret }).count() === 0, 'the first page has the two newest entries');
    check(await B.page.locator('.post', { hasText: tip }).getByRole('link', { name: 'Gardening' }).count() === 1,
      'a community post names its community');
    await B.page.getByRole('button', { name: 'More', exact: true }).click();
    await B.page.locator('.post', { hasText: secret }).waitFor(T);
    await B.page.getByRole('button', { name: 'More', exact: true }).waitFor({ ...T, state: 'detached' });
    const filters = B.page.getByRole('group', { name: 'Show' });
    await filters.getByRole('button', { name: 'Communities' }).click();
    await B.page.locator('.post', { hasText: open }).waitFor({ ...T, state: 'detached' });
    await B.page.locator('.post', { hasText: tip }).waitFor(T);
    await filters.getByRole('button', { name: 'People' }).click();
    await B.page.locator('.post', { hasText: tip }).waitFor({ ...T, state: 'detached' });
    await B.page.locator('.post', { hasText: open }).waitFor(T);
    await filters.getByRole('button', { name: 'Mentions' }).click();
    await B.page.locator('.post', { hasText: open }).waitFor({ ...T, state: 'detached' });
    check(await filters.getByRole('button', { name: 'Mentions' }).getAttribute('aria-pressed') === 'true', 'the filter shows as chosen');
    await A.page.getByRole('link', { name: /News/ }).click();
    const mention = `Thanks xmpp:${b.jid} for the tip (${Date.now()})`;
    await A.page.getByLabel("What's new?").fill(mention);
    await A.page.getByLabel('Visible to').selectOption({ label: 'My contacts' });
    await A.page.getByRole('button', { name: 'Publish' }).click();
    await B.page.locator('.post', { hasText: mention }).waitFor(T);
    // Alice likes Bob's community post from her feed: the count is the server's.
    const aliceTip = A.page.locator('.post', { hasText: tip });
    await aliceTip.locator('button.like').click();
    await aliceTip.locator('button.like[aria-pressed="true"] .count', { hasText: '1' }).waitFor(T);
    await B.page.screenshot({ path: path.join(output, 'feed-mentions.png') });
    await accessibility(B.page, 'feed-filters');
    await filters.getByRole('button', { name: 'All' }).click();
    console.log('PASS webapp: the server\'s feed paged with "More", filtered (communities, people, mentions), live, likes counted by the server');

    // French.
    await B.page.getByRole('link', { name: /Settings/ }).click();
    await B.page.getByLabel('Language').selectOption('fr');
    await B.page.getByRole('link', { name: /Actualités/ }).waitFor(T);
    check(await B.page.evaluate(() => document.documentElement.lang) === 'fr', 'the document language follows');
    await B.page.screenshot({ path: path.join(output, 'settings-fr.png') });
    console.log('PASS webapp: switched to French');

    // A phone: the navigation sits at the bottom of the screen.
    const P = await launchBrowser(path.join(workdir, 'profile-p'), { output, name: 'phone', viewport: { width: 390, height: 844 } });
    browsers.push(P);
    await P.page.goto(base + '/');
    await signIn(P.page, b.jid, b.pw);
    await P.page.locator('.post', { hasText: mention }).waitFor(T);
    const nav = await P.page.getByRole('navigation').boundingBox();
    check(nav && nav.y + nav.height >= 844 - 2 && nav.width >= 380, `bottom navigation on a phone: ${JSON.stringify(nav)}`);
    await P.page.screenshot({ path: path.join(output, 'phone-feed.png') });
    console.log('PASS webapp: phone layout with the navigation at the bottom');

    // The service worker shows a push message as a notification (delivered through DevTools, since the
    // browser's own push service is out of reach here; the server's side of Web Push is tested apart).
    const shown = await pushThroughDevTools(P, base, { title: 'Alice', body: 'A new message', url: '/#/chats' });
    check(shown.includes('Alice: A new message'), `the push became a notification: ${shown}`);
    console.log('PASS webapp: the service worker turns a push message into a notification');

    // Bob signs out everywhere from his desktop page (in French by now): his phone's session ends, its
    // token is refused and it asks for the password; the desktop page forgets its token too; the server
    // holds no token of Bob's any more.
    check(server.cli('user', 'tokens', b.jid).trim().split('\n').length === 2, 'Bob has a token per browser');
    await B.page.getByRole('link', { name: /Réglages/ }).click();
    await B.page.getByRole('button', { name: 'Se déconnecter partout' }).click();
    await B.page.getByRole('button', { name: 'Se connecter' }).waitFor(T);
    await P.page.getByRole('alert').getByText('The server ended your session.').waitFor(T);
    check(await B.page.evaluate(() => localStorage.getItem('causerie.fast')) === null, 'the desktop page forgot its token');
    check(server.cli('user', 'tokens', b.jid).trim() === '', 'every token of Bob\'s is revoked');
    await B.page.reload();
    await B.page.getByRole('button', { name: 'Se connecter' }).waitFor(T);
    check(await B.page.getByRole('navigation').count() === 0, 'no sign-in without a token');
    await P.page.reload();
    await P.page.getByRole('alert').getByText('Please sign in again with your password.').waitFor(T);
    console.log('PASS webapp: signed out everywhere: the other session ended, every token revoked');

    // Sign-up by invitation: Alice's invitation (made with the CLI) opens the server's page, Dave creates
    // his account there and continues in the web app, where Alice is already his contact.
    const link = server.cli('invite', 'create', '--inviter', a.jid).trim();
    check(link.startsWith(base + '/invite/'), `an invitation link on this origin: ${link}`);
    const D = await launchBrowser(path.join(workdir, 'profile-d'), { output, name: 'dave' });
    browsers.push(D);
    await D.page.goto(link);
    await D.page.fill('input[name=username]', 'dave');
    await D.page.fill('input[name=password]', 'dave-secret-4444');
    await D.page.fill('input[name=password2]', 'dave-secret-4444');
    await D.page.click('button[type=submit]');
    await D.page.getByRole('link', { name: 'Continue in your browser' }).click();
    check(await D.page.getByLabel(/Address/).inputValue() === 'dave@localhost', 'the address is filled in');
    await D.page.getByLabel(/^Password$/).fill('dave-secret-4444');
    await D.page.getByRole('button', { name: 'Sign in' }).click();
    await D.page.getByRole('link', { name: /Contacts/ }).click();
    await D.page.locator(`.contact[data-jid="${a.jid}"]`).waitFor(T);
    await A.page.getByRole('link', { name: /Contacts/ }).click();
    await A.page.locator('.contact[data-jid="dave@localhost"] .dot.online').waitFor(T);
    await D.page.screenshot({ path: path.join(output, 'invited.png') });
    // Signing out drops the token: the next visit asks for the password.
    await D.page.getByRole('link', { name: /Settings/ }).click();
    await D.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await D.page.getByRole('button', { name: 'Sign in' }).waitFor(T);
    check(await D.page.evaluate(() => localStorage.getItem('causerie.fast')) === null, 'signing out forgets the token');
    console.log('PASS webapp: signed up from an invitation, then in the web app with the inviter as a contact');

    // Alice changes her password and signs in with the new one; a third user deletes her account, after
    // which her password no longer opens anything.
    await A.page.getByRole('link', { name: /Settings/ }).click();
    await A.page.getByLabel('New password', { exact: true }).fill('alice-new-secret');
    await A.page.getByLabel('New password, again').fill('alice-new-secret');
    await A.page.getByRole('button', { name: 'Change my password' }).click();
    await A.page.getByRole('status').getByText('Password changed.').waitFor(T);
    // The new password dropped Alice's tokens: after a reload the page's token is refused, and the
    // password form comes back (the token forgotten).
    await A.page.reload();
    await A.page.getByRole('alert').getByText('Please sign in again with your password.').waitFor(T);
    check(await A.page.evaluate(() => localStorage.getItem('causerie.fast')) === null, 'the refused token is forgotten');
    await signIn(A.page, a.jid, 'alice-new-secret');
    const c = { jid: 'carol@localhost', pw: 'carol-secret-333' };
    server.user(c.jid, c.pw);
    const C = await launchBrowser(path.join(workdir, 'profile-c'), { output, name: 'carol' });
    browsers.push(C);
    await C.page.goto(base + '/#/settings');
    await signIn(C.page, c.jid, c.pw);
    const del = C.page.getByRole('form', { name: 'Delete my account' });
    check(await del.getByRole('button', { name: 'Delete my account' }).isDisabled(), 'deletion waits for the address');
    await del.getByLabel('Type your address to confirm').fill(c.jid);
    await del.getByRole('button', { name: 'Delete my account' }).click();
    await C.page.getByRole('button', { name: 'Sign in' }).waitFor(T);
    await C.page.getByLabel(/Address/).fill(c.jid);
    await C.page.getByLabel(/^Password$/).fill(c.pw);
    await C.page.getByRole('button', { name: 'Sign in' }).click();
    await C.page.getByRole('alert').getByText('Wrong address or password.').waitFor(T);
    console.log('PASS webapp: password changed and used; an account deleted');

    // Room owner and moderator (XEP-0045 §§8–10, XEP-0425), last since a ban is for good: Dave comes
    // back and joins Alice's room; Alice configures it through its muc#owner form, takes Dave's voice
    // and gives it back, retracts one of his messages, removes him, and once he is back, bans him.
    await signIn(D.page, 'dave@localhost', 'dave-secret-4444');
    await D.page.getByRole('link', { name: /Chats/ }).click();
    await D.page.getByLabel('Room (name or address)').fill('family@conference.localhost');
    await D.page.getByRole('button', { name: 'Join', exact: true }).click();
    await D.page.locator('input[aria-label="Message"]:not([disabled])').waitFor(T);
    await A.page.getByRole('link', { name: /Chats/ }).click();
    await A.page.getByRole('link', { name: /#family/ }).click();
    await A.page.getByRole('button', { name: 'Room settings' }).click();
    const roomForm = A.page.getByRole('form', { name: 'Room settings' });
    await roomForm.getByLabel('Name').fill('Family');
    await roomForm.getByLabel('Description').fill('Dinners and such');
    await roomForm.getByLabel('Moderated (newcomers need voice)').check();
    await roomForm.getByRole('button', { name: 'Save' }).click();
    await roomForm.getByRole('status').getByText('Saved.').waitFor(T);
    await A.page.getByRole('button', { name: 'Room settings' }).click();
    await A.page.getByRole('button', { name: 'Room settings' }).click();
    await A.page.waitForFunction(() => {
      const f = document.querySelector('form[aria-label="Room settings"]');
      return f && [...f.querySelectorAll('input')].some((i) => i.value === 'Dinners and such') &&
        [...f.querySelectorAll('input[type=checkbox]')].some((i) => i.checked);
    }, null, T);
    await A.page.locator('details summary', { hasText: 'People here' }).click();
    await A.page.getByRole('button', { name: 'Take voice: dave' }).click();
    await D.page.getByText('You cannot speak in this room right now.').waitFor(T);
    check(await D.page.getByLabel('Message').isDisabled(), 'no voice, no message field');
    await A.page.getByRole('button', { name: 'Give voice: dave' }).click();
    await D.page.locator('input[aria-label="Message"]:not([disabled])').waitFor(T);
    const spam = `Buy now! (${Date.now()})`;
    await D.page.getByLabel('Message').fill(spam);
    await D.page.getByRole('button', { name: 'Send', exact: true }).click();
    await A.page.locator('.messages li', { hasText: spam }).getByRole('button', { name: 'Remove message' }).click();
    await D.page.locator('.messages li', { hasText: 'This message was removed by a moderator.' }).waitFor(T);
    check(await D.page.locator('.messages li', { hasText: spam }).count() === 0, 'the retracted message is gone for Dave');
    await A.page.getByRole('button', { name: 'Remove: dave' }).click();
    await D.page.getByRole('alert').getByText('You were removed from the room.').waitFor(T);
    await D.page.getByRole('button', { name: 'Join', exact: true }).click();
    // Back in a moderated room, a newcomer has no voice.
    await D.page.getByText('You cannot speak in this room right now.').waitFor(T);
    await A.page.getByRole('button', { name: 'Ban: dave' }).click();
    await D.page.getByRole('alert').getByText('You are banned from the room.').waitFor(T);
    await D.page.getByRole('button', { name: 'Join', exact: true }).click();
    await D.page.getByRole('alert').getByText('The room refused (forbidden)').waitFor(T);
    await A.page.screenshot({ path: path.join(output, 'room-moderation.png') });
    await accessibility(A.page, 'room-moderation');
    console.log('PASS webapp: a room configured by its owner; voice, retraction, removal and ban by a moderator');

    const foreign = requests.filter((u) => !u.startsWith(base) && !u.startsWith('ws://127.0.0.1:' + server.web) &&
      !u.startsWith('blob:' + base) && !u.startsWith('data:'));
    check(foreign.length === 0, `no third-party request: ${foreign}`);
  } catch (e) {
    failed = 1;
    console.log(`FAIL webapp: ${e.stack || e}`);
    for (const [i, u] of browsers.entries()) {
      try { await u.page.screenshot({ path: path.join(output, `failure-${i}.png`) }); } catch { /* page gone */ }
    }
  } finally {
    for (const u of browsers) await u.context.close().catch(() => {});
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
