// BlurHash (https://blurha.sh, the algorithm as its README describes it) decoded to pixels, to draw a
// picture's placeholder on a canvas while its thumbnail loads: a DC colour and AC components of a cosine
// transform, base-83 encoded. Written from the format's description; nothing here is loaded from elsewhere.
const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

function decode83(s: string): number {
  let v = 0;
  for (const c of s) {
    const d = DIGITS.indexOf(c);
    if (d < 0) throw new Error("not base 83");
    v = v * 83 + d;
  }
  return v;
}

function toLinear(v: number): number {
  const x = v / 255;
  return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
}

function toSrgb(v: number): number {
  const x = Math.max(0, Math.min(1, v));
  return Math.round((x <= 0.0031308 ? x * 12.92 : 1.055 * Math.pow(x, 1 / 2.4) - 0.055) * 255);
}

function signPow(v: number, e: number): number {
  return Math.sign(v) * Math.pow(Math.abs(v), e);
}

// RGBA pixels of a width × height rendering, or null when the hash is malformed.
export function decodeBlurhash(hash: string, width: number, height: number): Uint8ClampedArray<ArrayBuffer> | null {
  try {
    if (hash.length < 6) return null;
    const flag = decode83(hash[0]);
    const nx = (flag % 9) + 1;
    const ny = Math.floor(flag / 9) + 1;
    if (hash.length !== 4 + 2 * nx * ny) return null;
    const maxAc = (decode83(hash[1]) + 1) / 166;
    const colours: Array<[number, number, number]> = [];
    const dc = decode83(hash.slice(2, 6));
    colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (let i = 1; i < nx * ny; i++) {
      const v = decode83(hash.slice(4 + i * 2, 6 + i * 2));
      const q = [Math.floor(v / 361), Math.floor(v / 19) % 19, v % 19];
      colours.push(q.map((c) => signPow((c - 9) / 9, 2) * maxAc) as [number, number, number]);
    }
    const px = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0, g = 0, b = 0;
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++) {
            const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
            const c = colours[i + j * nx];
            r += c[0] * basis;
            g += c[1] * basis;
            b += c[2] * basis;
          }
        }
        const o = 4 * (x + y * width);
        px[o] = toSrgb(r);
        px[o + 1] = toSrgb(g);
        px[o + 2] = toSrgb(b);
        px[o + 3] = 255;
      }
    }
    return px;
  } catch {
    return null;
  }
}
