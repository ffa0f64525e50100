// SCRAM-SHA-256 (RFC 7677) and SCRAM-SHA-1 (RFC 5802) as mechanisms for xmpp.js's SASL factory. xmpp.js leaves SCRAM
// out of its browser build (its implementation needs Node's crypto); this one uses the browser's
// SubtleCrypto, so the password never travels, not even inside TLS. No channel binding: a browser cannot
// read the TLS connection's binding data (hence the gs2 header "n,,").

const enc = new TextEncoder();

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

type Hash = "SHA-256" | "SHA-1";

async function hmac(hash: Hash, key: Uint8Array, data: string | Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash }, false, ["sign"]);
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, bytes as BufferSource));
}

async function digest(hash: Hash, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(hash, data as BufferSource));
}

async function saltedPassword(hash: Hash, password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", enc.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash, salt: salt as BufferSource, iterations }, key, hash === "SHA-1" ? 160 : 256);
  return new Uint8Array(bits);
}

// RFC 5802 §5.1: ',' and '=' in the user name are escaped.
function saslname(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function attributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

class Scram {
  clientFirst = true;
  private step = 0;
  private clientFirstBare = "";
  private cnonce = "";
  private finalMessage = "";
  private expectedServerSignature = "";

  // Computes the proof; xmpp.js awaits both calls.
  async challenge(serverFirst: string): Promise<void> {
    if (this.step === 1) {
      await this.prepareFinal(serverFirst);
      return;
    }
    await this.final(serverFirst);
  }

  // The server's final message (XEP-0388 additional data; SASL1 success data when given): RFC 5802 §5.1
  // "v=" proves the server knew the password's keys too.
  async final(serverFinal: string): Promise<void> {
    const v = attributes(serverFinal).get("v");
    if (v !== this.expectedServerSignature) throw new Error("SCRAM: the server's signature is wrong");
  }

  async response(creds: { username: string; password: string }): Promise<string> {
    if (this.step === 0) {
      this.step = 1;
      const nonce = new Uint8Array(18);
      crypto.getRandomValues(nonce);
      this.cnonce = b64(nonce);
      this.password = creds.password;
      this.clientFirstBare = `n=${saslname(creds.username)},r=${this.cnonce}`;
      return `n,,${this.clientFirstBare}`;
    }
    return this.finalMessage;
  }

  private password = "";

  constructor(readonly name: string, private readonly hash: Hash) {}

  private async prepareFinal(serverFirst: string): Promise<void> {
    const a = attributes(serverFirst);
    const nonce = a.get("r") ?? "";
    const salt = a.get("s");
    const iterations = Number(a.get("i"));
    if (!nonce.startsWith(this.cnonce) || nonce === this.cnonce || !salt || !(iterations >= 4096))
      throw new Error("SCRAM: the server's first message is not acceptable");
    const h = this.hash;
    const salted = await saltedPassword(h, this.password.normalize("NFKC"), unb64(salt), iterations);
    this.password = "";
    const clientKey = await hmac(h, salted, "Client Key");
    const storedKey = await digest(h, clientKey);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = await hmac(h, storedKey, authMessage);
    const proof = clientKey.map((b, i) => b ^ signature[i]);
    const serverKey = await hmac(h, salted, "Server Key");
    this.expectedServerSignature = b64(await hmac(h, serverKey, authMessage));
    this.finalMessage = `${withoutProof},p=${b64(proof)}`;
    this.step = 2;
  }
}

export class ScramSha256 extends Scram {
  constructor() {
    super("SCRAM-SHA-256", "SHA-256");
  }
}

export class ScramSha1 extends Scram {
  constructor() {
    super("SCRAM-SHA-1", "SHA-1");
  }
}
