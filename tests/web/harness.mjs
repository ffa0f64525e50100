// Shared pieces of the browser tests: a Causerie server on free loopback ports with its own data directory,
// Debian's Chromium launched the way the closed network needs, and waits with deadlines.
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';

export async function freePort() {
  for (let i = 0; i < 100; i++) {
    const port = 12000 + Math.floor(Math.random() * 20000);
    const ok = await new Promise((resolve) => {
      const s = net.createServer().once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port');
}

export function check(cond, what) { if (!cond) throw new Error(what); }

// A bound on something that should complete (a failure after `ms`, never a wait standing in for an event).
export async function within(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms);
  });
  try { return await Promise.race([promise, limit]); } finally { clearTimeout(timer); }
}

// A width×height 8-bit RGB PNG whose pixel (x, y) is colour(x, y) = [r, g, b]: a real picture for the
// browser to decode (signature, IHDR, one zlib IDAT, IEND, each chunk with its CRC-32).
export function png(width, height, colour) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 2;
  const rows = [];
  for (let y = 0; y < height; y++) {
    rows.push(0); // filter: none
    for (let x = 0; x < width; x++) rows.push(...colour(x, y));
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);
}

// Copies a child's output to `logPath` and resolves once a line containing `text` went by (the child
// says it is ready); fails if the child exits first.
export function untilOutput(proc, logPath, text, what) {
  const log = fs.createWriteStream(logPath);
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk) => {
      log.write(chunk);
      if (seen === null) return;
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes(text)) { seen = null; resolve(); }
    };
    for (const stream of [proc.stdout, proc.stderr]) stream?.on('data', onData);
    proc.once('exit', (code) => { if (seen !== null) reject(new Error(`${what}: exited (${code}) before saying "${text}"`)); });
  });
}

// A Causerie with one virtual host "localhost" (registration by invitation), a c2s and a plain HTTP listener; `extra` lines are added
// to its configuration.
export async function startServer({ binary, workdir, output, extra = [] }) {
  const c2s = await freePort();
  const web = await freePort();
  const config = path.join(workdir, 'causerie.toml');
  fs.writeFileSync(config, [
    '[server]', `data_dir = "${workdir}/data"`, 'log_level = "debug"', 'workers = 2', '',
    // Registration by invitation: the web app test signs a newcomer up from one.
    '[[host]]', 'name = "localhost"', 'registration = "invite"', '',
    '[[listener]]', 'type = "c2s"', 'address = "127.0.0.1"', `port = ${c2s}`, '',
    '[[listener]]', 'type = "http"', 'address = "127.0.0.1"', `port = ${web}`, 'tls = "none"', '',
    ...extra,
  ].join('\n'));
  const proc = spawn(binary, ['run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  await untilOutput(proc, path.join(output, 'server.log'), `listening for http on 127.0.0.1:${web} `, 'causerie to listen');
  // `causerie <args…>` on this server's configuration; its standard output.
  const cli = (...cliArgs) => {
    const r = spawnSync(binary, [...cliArgs, '--config', config], { encoding: 'utf8' });
    check(r.status === 0, `causerie ${cliArgs.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const user = (jid, pw) => cli('user', 'add', jid, '--password', pw);
  // Stops the server and waits for it; one that ignores SIGTERM for 10 s is killed and reported.
  const stop = async () => {
    const exited = proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve(true) : new Promise((r) => proc.once('exit', () => r(true)));
    proc.kill('SIGTERM');
    let clean = true;
    const deadline = setTimeout(() => { clean = false; proc.kill('SIGKILL'); }, 10000);
    await exited;
    clearTimeout(deadline);
    return clean;
  };
  return { proc, c2s, web, config, user, cli, stop };
}

// `args`: more Chromium switches (--ignore-certificate-errors for a server's self-signed HTTPS listener).
export async function launchBrowser(profile, { output, name, viewport = { width: 1200, height: 800 }, locale = 'en-US', args = [] }) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', ...args],
    viewport,
    locale,
  });
  const page = context.pages()[0] || await context.newPage();
  const logFile = fs.createWriteStream(path.join(output, `${name}-console.log`));
  page.on('console', (m) => logFile.write(`${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (e) => logFile.write(`pageerror: ${e}\n`));
  return { context, page };
}
