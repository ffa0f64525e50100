// Hashtags: the #words of a post, published as its Atom categories (XEP-0277 §"Categories") and shown
// as links to the tag view. A tag is letters, digits and underscores with at least one letter (so "#1"
// is no tag); it starts after a space, a line start or punctuation, never inside a word or a URL ("a#b",
// "https://x/#top"). The server compares tags after its own normalisation (docs/protocol/explore.md), so
// the term is published as written, without the "#".
const TAG = /(^|[^\p{L}\p{N}_&/#])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)/gu;

export function hashtagsOf(text: string): string[] {
  const seen = new Map<string, string>();
  for (const m of text.matchAll(TAG)) {
    const key = m[2].toLowerCase();
    if (!seen.has(key) && [...seen.keys()].length < 32) seen.set(key, m[2]);
  }
  return [...seen.values()];
}

// Pieces of a text: plain runs and tags, in order.
export function splitHashtags(text: string): Array<{ text: string; tag?: string }> {
  const out: Array<{ text: string; tag?: string }> = [];
  let at = 0;
  for (const m of text.matchAll(TAG)) {
    const start = m.index! + m[1].length;
    if (start > at) out.push({ text: text.slice(at, start) });
    out.push({ text: "#" + m[2], tag: m[2] });
    at = start + 1 + m[2].length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

export function tagHref(tag: string): string {
  return "#/tag/" + encodeURIComponent(tag.toLowerCase());
}
