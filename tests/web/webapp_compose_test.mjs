// Issue 16, the writing side of Causerie's web app in headless Chromium, against the server's own services.
// Alice writes; Bob (a contact she puts in her roster group "Family") and Carol (a contact outside it, on
// a phone-sized window) read:
// - a post for the group "Family" with a picture: Bob sees it with its thumbnail (the media service's
//   XEP-0264 copy, urn:causerie:media:0), Carol never does (her feed shows the public post published after
//   it, live and after a reload, without it);
// - a public post with hashtags and a link: the hashtag leads to the tag view (urn:causerie:explore:0 on
//   search.localhost) listing it, the private post's hashtag finds nothing; the link's preview
//   (urn:causerie:preview:0) of a page this test serves on loopback (allow-listed in the server's
//   [http_client]) shows its picture through the server's /proxy/image, and the browsers never contact the
//   page's server themselves; an edit of the post seen live; a deletion seen live;
// - a link preview in a chat message;
// - a gallery community: a picture posted with a caption shown in the photo grid by its thumbnail; Bob, a
//   subscribed member, has no Edit or Delete on it; Alice edits its caption (the same item id published
//   again) and Bob's grid shows the edit live; she deletes it and it leaves Bob's grid live (the
//   service's retract notification).
// axe-core finds no serious violation on the new screens; screenshots go to --output.
//
// node tests/web/webapp_compose_test.mjs --binary build/causerie [--output DIR]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { check, freePort, launchBrowser, png, startServer } from './harness.mjs';
import { accessibility as axeScan, becomeContacts, loaded, signIn } from './webapp_flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const binary = path.resolve(arg('--binary', path.join(here, '../../build/causerie')));
const output = path.resolve(arg('--output', path.join(os.tmpdir(), 'causerie-test-output', 'webapp-compose')));
fs.mkdirSync(output, { recursive: true });
const T = { timeout: 20000 };

const accessibility = (page, what) => axeScan(page, output, what);

// A picture big enough to get a smaller thumbnail (the server's box is 320 × 320).
const landscape = png(640, 480, (x, y) => [Math.floor(x / 3), Math.floor(y / 2), 120]);
const harbour = png(480, 480, (x, y) => [30, Math.floor((x + y) / 4), 200]);
const riverPicture = png(64, 48, (x) => [20, 90 + x, 160]);

// The page a link points to, served by this test on loopback: OpenGraph meta-data and a picture.
function startPages(port) {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url, agent: req.headers['user-agent'] ?? '' });
    if (req.url === '/river') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>fallback</title>
        <meta property="og:title" content="The river at dusk">
        <meta property="og:description" content="Herons, reeds and a slow current.">
        <meta property="og:site_name" content="River Walks">
        <meta property="og:image" content="http://127.0.0.1:${port}/river.png">
        </head><body><p>Body text is never read.</p></body></html>`);
    } else if (req.url === '/river.png') {
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': riverPicture.length });
      res.end(riverPicture);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, requests })));
}

async function main() {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'causerie-webapp-compose-'));
  let server;
  let pages;
  const browsers = [];
  let failed = 0;
  try {
    const pagePort = await freePort();
    pages = await startPages(pagePort);
    const pageOrigin = `http://127.0.0.1:${pagePort}`;
    server = await startServer({ binary, workdir, output, extra: ['[http_client]', 'allow = ["127.0.0.1/32"]', ''] });
    const base = `http://127.0.0.1:${server.web}`;
    const a = { jid: 'alice@localhost', pw: 'alice-secret-1' };
    const b = { jid: 'bob@localhost', pw: 'bob-secret-22' };
    const c = { jid: 'carol@localhost', pw: 'carol-secret-333' };
    for (const u of [a, b, c]) server.user(u.jid, u.pw);
    const A = await launchBrowser(path.join(workdir, 'profile-a'), { output, name: 'alice' });
    browsers.push(A);
    const B = await launchBrowser(path.join(workdir, 'profile-b'), { output, name: 'bob' });
    browsers.push(B);
    const C = await launchBrowser(path.join(workdir, 'profile-c'), { output, name: 'carol', viewport: { width: 390, height: 844 } });
    browsers.push(C);
    // Every URL any page asks for: none may go to the linked page's server.
    const requested = [];
    for (const X of browsers) X.page.on('request', (r) => requested.push(r.url()));
    for (const [X, u] of [[A, a], [B, b], [C, c]]) {
      await X.page.goto(base + '/');
      await signIn(X.page, u.jid, u.pw);
    }
    await becomeContacts(A, B, a, b);
    await becomeContacts(A, C, a, c);
    for (const X of browsers) await X.page.getByRole('link', { name: /News/ }).click();
    console.log('PASS compose: three users signed in, Bob and Carol contacts of Alice');

    // Alice chooses "Chosen groups": she has none yet, makes "Family" with Bob in it.
    const composer = A.page.getByRole('form', { name: 'Write a post' });
    await composer.getByLabel('Visible to').selectOption({ label: 'Chosen groups' });
    await composer.getByText('No group yet').waitFor(T);
    await composer.getByRole('link', { name: 'Manage groups' }).click();
    await A.page.getByRole('textbox', { name: 'New group' }).fill('Family');
    await A.page.getByRole('button', { name: 'Create', exact: true }).click();
    await A.page.locator(`label[data-jid="${b.jid}"] input`).click();
    await A.page.locator(`label[data-jid="${b.jid}"] input:checked`).waitFor(T);
    check(await A.page.locator(`label[data-jid="${c.jid}"] input:checked`).count() === 0, 'Carol is not in the group');
    await A.page.screenshot({ path: path.join(output, 'groups.png') });
    await accessibility(A.page, 'groups');
    await A.page.getByRole('link', { name: 'Back to the news' }).click();
    console.log('PASS compose: a roster group made and filled from the app');

    // A post for "Family" with a picture: the composer shows its thumbnail once the server made it.
    const stamp = Date.now();
    const familyText = `Family dinner on Sunday #family (${stamp})`;
    await composer.getByLabel("What's new?").fill(familyText);
    await composer.locator('input[type=file]').setInputFiles({ name: 'landscape.png', mimeType: 'image/png', buffer: landscape });
    const composerThumb = await loaded(composer.locator('img.thumb'), 'the composer\'s thumbnail');
    check(composerThumb.src.includes('/thumb/') && composerThumb.w === 320 && composerThumb.h === 240,
      `the composer shows the server's thumbnail: ${JSON.stringify(composerThumb)}`);
    await composer.getByLabel('Visible to').selectOption({ label: 'Chosen groups' });
    await composer.getByRole('checkbox', { name: 'Family', exact: true }).check();
    await A.page.screenshot({ path: path.join(output, 'composer.png') });
    await accessibility(A.page, 'composer');
    await composer.getByRole('button', { name: 'Publish' }).click();
    await A.page.locator('.post', { hasText: familyText }).locator('.badge', { hasText: 'Visible to: Family' }).waitFor(T);
    const bobFamily = B.page.locator('.post', { hasText: familyText });
    await bobFamily.waitFor(T);
    await bobFamily.locator('.badge', { hasText: 'Visible to: Family' }).waitFor(T);
    const thumb = await loaded(bobFamily.locator('img.shared'), 'the thumbnail in Bob\'s feed');
    check(thumb.src.includes('/thumb/') && thumb.w === 320 && thumb.h === 240, `Bob's feed shows the thumbnail: ${JSON.stringify(thumb)}`);
    check(await bobFamily.locator('a.picture').getAttribute('href') !== thumb.src, 'the thumbnail links to the original');
    console.log('PASS compose: a post for a roster group with a picture, seen with its thumbnail by a member of the group');

    // A public post with hashtags and a link. Carol gets it live: the group's post, published before,
    // never reached her.
    const riverUrl = `${pageOrigin}/river`;
    const openText = `Walk by the river #Sunset #xmpp ${riverUrl} (${stamp})`;
    await composer.getByLabel("What's new?").fill(openText);
    await composer.getByLabel('Visible to').selectOption({ label: 'Everyone' });
    await composer.getByRole('button', { name: 'Publish' }).click();
    await C.page.locator('.post', { hasText: `(${stamp})` }).first().waitFor(T);
    check(await C.page.locator('.post', { hasText: familyText }).count() === 0, 'the group\'s post is not in Carol\'s feed');
    await C.page.reload();
    await C.page.getByRole('navigation').waitFor(T);
    await C.page.locator('.post', { hasText: 'Walk by the river' }).waitFor(T);
    check(await C.page.locator('.post', { hasText: familyText }).count() === 0, 'nor in the feed\'s pages after a reload');
    console.log('PASS compose: the group\'s post absent for a contact outside the group (live and in the feed\'s pages)');

    // The link's preview, its picture through the server's image proxy.
    const bobOpen = B.page.locator('.post', { hasText: 'Walk by the river' });
    const preview = bobOpen.locator('.link-preview');
    await preview.getByText('The river at dusk').waitFor(T);
    await preview.getByText('Herons, reeds and a slow current.').waitFor(T);
    await preview.getByText('River Walks').waitFor(T);
    const proxied = await loaded(preview.locator('img'), 'the preview\'s picture');
    check(proxied.src.startsWith(base + '/proxy/image?') && proxied.w === 64 && proxied.h === 48,
      `the preview's picture comes through the image proxy: ${JSON.stringify(proxied)}`);
    console.log('PASS compose: a link preview of a loopback page, its picture through /proxy/image');

    // A post from another client with a picture on another origin (the loopback site): Bob's browser shows
    // it through the server's image proxy, never asking that site (checked with the page server's log below).
    const heronEntry = `<entry xmlns='http://www.w3.org/2005/Atom'><title type='text'>Heron from elsewhere (${stamp})</title>`
      + `<id>heron-${stamp}</id><published>${new Date().toISOString()}</published><updated>${new Date().toISOString()}</updated>`
      + `<author><name>Alice</name><uri>xmpp:${a.jid}</uri></author>`
      + `<link rel='enclosure' href='${pageOrigin}/river.png' type='image/png'/></entry>`;
    const published = spawnSync('/usr/bin/python3', [path.join(here, 'publish_entry.py'), a.jid, a.pw, String(server.c2s), heronEntry],
      { encoding: 'utf8', timeout: 60000 });
    check(published.status === 0, `slixmpp published the post: ${published.stderr}`);
    const heron = B.page.locator('.post', { hasText: `Heron from elsewhere (${stamp})` });
    const heronPic = await loaded(heron.locator('img.shared'), 'the other origin\'s picture');
    check(heronPic.src.startsWith(base + '/proxy/image?') && heronPic.w === 64 && heronPic.h === 48,
      `a picture from another origin comes through the image proxy: ${JSON.stringify(heronPic)}`);
    console.log('PASS compose: a post\'s picture from another origin shown through /proxy/image');

    // Hashtags: links to the tag view, which lists the public post (tags compared case-insensitively).
    await bobOpen.getByRole('link', { name: '#Sunset', exact: true }).click();
    check(B.page.url().endsWith('#/tag/sunset'), `the hashtag leads to the tag view: ${B.page.url()}`);
    const tagView = B.page.getByRole('region', { name: 'Posts by tag' });
    await tagView.getByRole('heading', { name: '#sunset' }).waitFor(T);
    await tagView.locator('.post', { hasText: 'Walk by the river' }).waitFor(T);
    check(await tagView.locator('.post', { hasText: familyText }).count() === 0, 'only the public post');
    await B.page.screenshot({ path: path.join(output, 'tag-view.png') });
    await accessibility(B.page, 'tag-view');
    // Words and tag together: words the post lacks find nothing, its words find it.
    await tagView.getByLabel('Tag', { exact: true }).fill('#XMPP');
    await tagView.getByLabel('Words', { exact: true }).fill('dinner');
    await tagView.getByRole('button', { name: 'Search', exact: true }).click();
    await tagView.getByRole('status').getByText('No public post found.').waitFor(T);
    await tagView.getByLabel('Words', { exact: true }).fill('river');
    await tagView.getByRole('button', { name: 'Search', exact: true }).click();
    await tagView.getByRole('heading', { name: '#XMPP' }).waitFor(T);
    await tagView.locator('.post', { hasText: 'Walk by the river' }).waitFor(T);
    // The private post's tag finds nothing.
    await B.page.getByRole('link', { name: /News/ }).click();
    await bobFamily.getByRole('link', { name: '#family', exact: true }).click();
    await tagView.getByRole('heading', { name: '#family' }).waitFor(T);
    await tagView.getByRole('status').getByText('No public post found.').waitFor(T);
    check(await tagView.locator('.post').count() === 0, 'the group\'s post is not public');
    console.log('PASS compose: hashtags lead to the tag view, which lists public posts only');

    // Carol's phone: the hashtag and the composer fit the screen.
    await C.page.locator('.post', { hasText: 'Walk by the river' }).getByRole('link', { name: '#xmpp', exact: true }).click();
    await C.page.getByRole('region', { name: 'Posts by tag' }).locator('.post', { hasText: 'Walk by the river' }).waitFor(T);
    const fits = () => C.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
    check(await fits(), 'the tag view fits a phone');
    await C.page.screenshot({ path: path.join(output, 'tag-view-phone.png') });
    await C.page.getByRole('link', { name: /News/ }).click();
    await C.page.getByRole('form', { name: 'Write a post' }).getByLabel('Visible to').selectOption({ label: 'Chosen groups' });
    await C.page.getByRole('form', { name: 'Write a post' }).getByText('No group yet').waitFor(T);
    check(await fits(), 'the composer fits a phone');
    await C.page.screenshot({ path: path.join(output, 'composer-phone.png') });
    await accessibility(C.page, 'composer-phone');
    console.log('PASS compose: tag view and composer on a phone');

    // An edit (the same item id published again) reaches Bob's feed live; then a deletion.
    await B.page.getByRole('link', { name: /News/ }).click();
    await bobOpen.waitFor(T);
    const openId = await bobOpen.getAttribute('data-post-id');
    const aliceOpen = A.page.locator('.post', { hasText: 'Walk by the river' });
    await aliceOpen.getByRole('button', { name: 'Edit post' }).click();
    const editor = A.page.getByRole('form', { name: 'Edit post' });
    check(await editor.getByLabel("What's new?").inputValue() === openText, 'the editor starts from the post');
    check(await editor.getByLabel('Visible to').inputValue() === 'open', 'and from its audience');
    const edited = `Walk by the river, with herons #Sunset #xmpp ${riverUrl} (${stamp})`;
    await editor.getByLabel("What's new?").fill(edited);
    await editor.getByRole('button', { name: 'Save', exact: true }).click();
    const bobEdited = B.page.locator('.post', { hasText: 'with herons' });
    await bobEdited.waitFor(T);
    await bobEdited.getByText('edited', { exact: true }).waitFor(T);
    check(await B.page.locator('.post', { hasText: 'Walk by the river #Sunset' }).count() === 0, 'the edit replaced the post');
    check(await bobEdited.getAttribute('data-post-id') === openId, 'the same item id');
    await A.page.locator('.post', { hasText: familyText }).getByRole('button', { name: 'Delete post' }).click();
    await A.page.locator('.post', { hasText: familyText }).getByRole('button', { name: 'Delete', exact: true }).click();
    await bobFamily.waitFor({ ...T, state: 'detached' });
    console.log('PASS compose: an edit and a deletion seen live');

    // A link in a chat message gets the same preview.
    await A.page.getByRole('link', { name: /Contacts/ }).click();
    await A.page.locator(`.contact[data-jid="${b.jid}"]`).getByRole('link', { name: 'Chat' }).click();
    await A.page.getByLabel('Message').fill(`Look: ${riverUrl}`);
    await A.page.getByRole('button', { name: 'Send', exact: true }).click();
    await B.page.getByRole('link', { name: /Chats/ }).click();
    await B.page.getByRole('link', { name: new RegExp(a.jid) }).click();
    const chatPreview = B.page.locator('.messages li.in', { hasText: 'Look:' }).locator('.link-preview');
    await chatPreview.getByText('The river at dusk').waitFor(T);
    await loaded(chatPreview.locator('img'), 'the chat preview\'s picture');
    await accessibility(B.page, 'chat-preview');
    console.log('PASS compose: a link preview in a chat message');

    // A gallery: Alice creates one and posts a picture with a caption; the grid shows its thumbnail,
    // for her and for Bob.
    await A.page.getByRole('link', { name: /Communities/ }).click();
    const create = A.page.getByRole('form', { name: 'Create a community' });
    await create.getByLabel(/Short name/).fill('photos');
    await create.getByLabel('Title').fill('Photos');
    await create.getByLabel('Kind').selectOption({ label: 'Gallery' });
    await create.getByRole('button', { name: 'Create' }).click();
    await A.page.getByRole('heading', { name: 'Photos' }).waitFor(T);
    const galleryForm = A.page.getByRole('form', { name: /Post/ });
    check(await galleryForm.getByRole('button', { name: 'Publish' }).isDisabled(), 'a gallery post needs a picture');
    await galleryForm.locator('input[type=file]').setInputFiles({ name: 'harbour.png', mimeType: 'image/png', buffer: harbour });
    await loaded(galleryForm.locator('img.thumb'), 'the gallery composer\'s thumbnail');
    await galleryForm.getByLabel('Caption (optional)').fill('Harbour at noon');
    await galleryForm.getByRole('button', { name: 'Publish' }).click();
    const tile = await loaded(A.page.locator('.gallery figure', { hasText: 'Harbour at noon' }).locator('img'), 'the grid\'s thumbnail');
    check(tile.src.includes('/thumb/') && tile.w === 320, `the grid shows the thumbnail: ${JSON.stringify(tile)}`);
    await B.page.goto(`${base}/#/community/${encodeURIComponent('pubsub.localhost')}/photos`);
    await B.page.getByRole('navigation').waitFor(T);
    await loaded(B.page.locator('.gallery figure', { hasText: 'Harbour at noon' }).locator('img'), 'Bob\'s grid');
    await A.page.screenshot({ path: path.join(output, 'gallery.png') });
    await accessibility(A.page, 'gallery');
    console.log('PASS compose: a picture posted to a gallery, shown in the grid by its thumbnail');

    // Bob subscribes (live notifications); the post is not his: no Edit, no Delete.
    await B.page.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await B.page.getByRole('button', { name: 'Unsubscribe', exact: true }).waitFor(T);
    const bobTile = B.page.locator('.gallery figure', { hasText: 'Harbour at noon' });
    const tileId = await bobTile.getAttribute('data-post-id');
    check(await bobTile.getByRole('button', { name: 'Edit post' }).count() === 0, 'a member who is not the author has no Edit');
    check(await bobTile.getByRole('button', { name: 'Delete post' }).count() === 0, 'nor Delete');
    // Alice edits the caption with the post composer (no audience there: the node's applies).
    const aliceTile = A.page.locator('.gallery figure', { hasText: 'Harbour at noon' });
    await aliceTile.getByRole('group', { name: 'Post actions' }).getByRole('button', { name: 'Edit post' }).click();
    const tileEditor = A.page.getByRole('form', { name: 'Edit post' });
    check(await tileEditor.getByLabel("What's new?").inputValue() === 'Harbour at noon', 'the editor starts from the caption');
    check(await tileEditor.getByLabel('Visible to').count() === 0, 'no audience choice for a community\'s post');
    await tileEditor.getByLabel("What's new?").fill('Harbour at dusk');
    await tileEditor.getByRole('button', { name: 'Save', exact: true }).click();
    const bobEditedTile = B.page.locator('.gallery figure', { hasText: 'Harbour at dusk' });
    await loaded(bobEditedTile.locator('img'), 'the edited post in Bob\'s grid');
    check(await bobEditedTile.getAttribute('data-post-id') === tileId, 'the edit kept the item id');
    check(await B.page.locator('.gallery figure', { hasText: 'Harbour at noon' }).count() === 0, 'the edit replaced the post');
    await accessibility(A.page, 'gallery-actions');
    console.log('PASS compose: a community post edited by its author, seen live by a member who has no Edit');
    const aliceEdited = A.page.locator('.gallery figure', { hasText: 'Harbour at dusk' });
    await aliceEdited.getByRole('button', { name: 'Delete post' }).click();
    await aliceEdited.getByRole('button', { name: 'Delete', exact: true }).click();
    await bobEditedTile.waitFor({ ...T, state: 'detached' });
    await aliceEdited.waitFor({ ...T, state: 'detached' });
    console.log('PASS compose: a community post deleted by its author, gone live for the member');

    // The linked page's server was asked by Causerie only (the page and its picture), never by a browser.
    const leaked = requested.filter((u) => u.startsWith(pageOrigin));
    check(leaked.length === 0, `no browser request to the linked site: ${leaked}`);
    check(pages.requests.some((r) => r.url === '/river') && pages.requests.some((r) => r.url === '/river.png'),
      `Causerie fetched the page and its picture: ${JSON.stringify(pages.requests)}`);
    check(pages.requests.every((r) => !/Chrom/.test(r.agent)), 'no request from Chromium');
    console.log('PASS compose: no third-party request from the pages');
  } catch (e) {
    failed++;
    console.error('FAIL compose:', e.stack ?? e);
    for (const [i, X] of browsers.entries())
      await X.page.screenshot({ path: path.join(output, `failure-${i}.png`) }).catch(() => {});
  } finally {
    for (const X of browsers) await X.context.close().catch(() => {});
    if (server && !(await server.stop())) { failed++; console.error('FAIL compose: the server did not stop on SIGTERM'); }
    pages?.server.close();
    if (!failed) fs.rmSync(workdir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

await main();
