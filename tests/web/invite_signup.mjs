// Issue 14: a newcomer signs up from an invitation link in headless Debian Chromium with JavaScript
// turned off (the page must work without it): the page explains XMPP, offers the xmpp: URI and a QR
// code, and loads nothing from anywhere (every request the browser makes is recorded and must go to the
// server's own origin). The form is filled in with two different passwords first (the page says so and
// keeps the name), then correctly; the result page names the new address. Driven by
// tests/integration/test_invite_web.py, which makes the invitation and checks the accounts afterwards.
//
// node tests/web/invite_signup.mjs --url URL --username NAME --password PW --expect-uri URI [--output DIR]
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const url = arg('--url');
const username = arg('--username');
const password = arg('--password');
const expectUri = arg('--expect-uri');
const output = path.resolve(arg('--output', path.join(os.tmpdir(), 'causerie-test-output', 'invite-web')));
fs.mkdirSync(output, { recursive: true });

function check(cond, what) { if (!cond) throw new Error(what); }

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US' });
    const page = await context.newPage();
    const origin = new URL(url).origin;
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    const cspViolations = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });

    const first = await page.goto(url);
    check(first.status() === 200, `the invitation page answers 200, not ${first.status()}`);
    check(/XMPP/.test(await page.textContent('body')), 'the page explains XMPP');
    const href = await page.getAttribute('a.app', 'href');
    check(href === expectUri, `the app button opens ${expectUri}, not ${href}`);
    check(await page.locator('.qr svg path').count() === 1, 'a QR code is drawn inline');
    await page.screenshot({ path: path.join(output, 'invite-page.png'), fullPage: true });

    // A mistake first: the page says what went wrong and keeps the username.
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.fill('input[name=password2]', password + '-typo');
    const wrong = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    check(wrong[0].status() === 400, `two passwords that differ: 400, not ${wrong[0].status()}`);
    const problem = await page.textContent('.problem');
    check(/not the same/.test(problem), `the problem is shown, not: ${problem}`);
    check(await page.inputValue('input[name=username]') === username, 'the username is kept');

    await page.fill('input[name=password]', password);
    await page.fill('input[name=password2]', password);
    const done = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    check(done[0].status() === 201, `account created: 201, not ${done[0].status()}`);
    const jid = (await page.textContent('#jid')).trim();
    console.log(`created ${jid}`);
    await page.screenshot({ path: path.join(output, 'account-created.png'), fullPage: true });

    const foreign = requests.filter((u) => !u.startsWith(origin + '/'));
    check(foreign.length === 0, `requests outside the server's origin: ${foreign.join(', ')}`);
    check(cspViolations.length === 0, `CSP violations: ${cspViolations.join('; ')}`);
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => { console.error(`FAIL ${e.message}`); process.exit(1); });
