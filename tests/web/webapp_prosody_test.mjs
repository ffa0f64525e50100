// Issue 16: the web app is a plain XMPP client. Here Debian's Prosody 0.12 serves the built app (its
// mod_http_files, from the build directory) and XMPP over WebSocket on the same origin, and the app must
// work where Causerie's own services are absent: sign-in (SCRAM), contacts, chat, history from Prosody's
// mod_mam after a reload, and microblog posts on PEP (without a comments service, posts go out without a
// discussion rather than failing).
//
// node tests/web/webapp_prosody_test.mjs --webroot build/web [--output DIR]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, freePort, launchBrowser, untilOutput } from './harness.mjs';
import { becomeContacts, firstMessage, signIn } from './webapp_flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const webroot = path.resolve(arg('--webroot', path.join(here, '../../build/web')));
const output = path.resolve(arg('--output', path.join(os.tmpdir(), 'causerie-test-output', 'webapp-prosody')));
fs.mkdirSync(output, { recursive: true });
const T = { timeout: 20000 };

async function startProsody(workdir) {
  const port = await freePort();
  const config = path.join(workdir, 'prosody.cfg.lua');
  fs.mkdirSync(path.join(workdir, 'data'));
  fs.writeFileSync(config, `-- Written by tests/web/webapp_prosody_test.mjs.
run_as_root = true
pidfile = "${workdir}/prosody.pid"
data_path = "${workdir}/data"
log = { debug = "*console" }
c2s_ports = {}
c2s_direct_tls_ports = {}
s2s_ports = {}
s2s_direct_tls_ports = {}
component_ports = {}
http_interfaces = { "127.0.0.1" }
http_ports = { ${port} }
https_ports = {}
network_backend = "epoll"
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = false
consider_websocket_secure = true
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "pep"; "private"; "carbons"; "mam"; "bookmarks";
  "vcard4"; "vcard_legacy"; "websocket"; "http_files" }
http_files_dir = "${webroot}"
http_paths = { files = "/"; websocket = "/xmpp-websocket" }
archive_expires_after = "never"
default_archive_policy = true
VirtualHost "localhost"
Component "conference.localhost" "muc"
  restrict_room_creation = false
`);
  const proc = spawn('prosody', ['--config', config, '-F'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await untilOutput(proc, path.join(output, 'prosody.log'), `Activated service 'http' on [127.0.0.1]:${port}`, 'prosody to listen');
  const user = (name, pw) => {
    const r = spawnSync('prosodyctl', ['--config', config, 'register', name, 'localhost', pw], { encoding: 'utf8' });
    check(r.status === 0, `prosodyctl register ${name}: ${r.stdout} ${r.stderr}`);
  };
  const stop = async () => {
    const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const deadline = setTimeout(() => proc.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(deadline);
  };
  return { port, user, stop };
}

async function main() {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'causerie-webapp-prosody-'));
  let prosody;
  const browsers = [];
  let failed = 0;
  try {
    check(fs.existsSync(path.join(webroot, 'index.html')), `the built app is in ${webroot}`);
    prosody = await startProsody(workdir);
    // Prosody serves a virtual host's HTTP paths by its name in the Host header.
    const base = `http://localhost:${prosody.port}`;
    const a = { jid: 'alice@localhost', pw: 'alice-secret-1' };
    const b = { jid: 'bob@localhost', pw: 'bob-secret-22' };
    prosody.user('alice', a.pw);
    prosody.user('bob', b.pw);
    const A = await launchBrowser(path.join(workdir, 'profile-a'), { output, name: 'alice' });
    browsers.push(A);
    const B = await launchBrowser(path.join(workdir, 'profile-b'), { output, name: 'bob' });
    browsers.push(B);
    await A.page.goto(base + '/');
    await B.page.goto(base + '/');
    await signIn(A.page, a.jid, a.pw);
    await signIn(B.page, b.jid, b.pw);
    console.log('PASS webapp on Prosody: sign-in');

    await becomeContacts(A, B, a, b);
    console.log('PASS webapp on Prosody: contacts');

    const hello = `Hello Bob, via Prosody (${Date.now()})`;
    await firstMessage(A, B, a, b, hello);
    await A.page.reload();
    await signIn(A.page, a.jid, a.pw);
    await A.page.locator('.messages li.out', { hasText: hello }).waitFor(T);
    console.log('PASS webapp on Prosody: chat, and its history from mod_mam after a reload');

    await A.page.getByRole('link', { name: /News/ }).click();
    await B.page.getByRole('link', { name: /News/ }).click();
    const post = `A post on Prosody's PEP (${Date.now()})`;
    await A.page.getByLabel("What's new?").fill(post);
    await A.page.getByRole('button', { name: 'Publish' }).click();
    await A.page.locator('.post', { hasText: post }).waitFor(T);
    await B.page.locator('.post', { hasText: post }).waitFor(T);
    check(await A.page.locator('.post', { hasText: post }).locator('.discussion').count() === 0,
      'no comments service: the post has no discussion');
    check(await B.page.getByRole('group', { name: 'Show' }).count() === 0 && await B.page.locator('button.more').count() === 0,
      'no feed service: the feed is gathered by the client, without filters or pages');
    await B.page.screenshot({ path: path.join(output, 'prosody-feed.png') });
    console.log('PASS webapp on Prosody: a microblog post reaches the contact\'s feed');
  } catch (e) {
    failed = 1;
    console.log(`FAIL webapp on Prosody: ${e.stack || e}`);
    for (const [i, u] of browsers.entries()) {
      try { await u.page.screenshot({ path: path.join(output, `failure-${i}.png`) }); } catch { /* page gone */ }
    }
  } finally {
    for (const u of browsers) await u.context.close().catch(() => {});
    if (prosody) await prosody.stop();
    fs.rmSync(workdir, { recursive: true, force: true });
  }
  console.log(`${1 - failed} passed, ${failed} failed; output in ${output}`);
  process.exit(failed);
}

main();
