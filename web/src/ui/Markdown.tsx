import MarkdownIt from "markdown-it";
import { splitHashtags, tagHref } from "../hashtags";

// Posts are written in Markdown (as Movim and Causerie's public pages read them). Raw HTML in the source
// is shown as text (html: false) and markdown-it refuses javascript:/data: links, so what reaches the
// page is only the Markdown's own markup; the CSP forbids inline scripts besides.
const md = new MarkdownIt({ html: false, linkify: true, breaks: true });
const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  if (tokens[idx].attrGet("class") !== "hashtag") {
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
    tokens[idx].attrSet("target", "_blank");
  }
  return defaultLink(tokens, idx, options, env, self);
};

// Hashtags in text (not inside links nor code) become links to the app's tag view.
md.core.ruler.push("hashtags", (state) => {
  for (const block of state.tokens) {
    if (block.type !== "inline" || !block.children) continue;
    const out: typeof block.children = [];
    let inLink = 0;
    for (const tok of block.children) {
      if (tok.type === "link_open") inLink++;
      if (tok.type === "link_close") inLink--;
      const parts = tok.type === "text" && !inLink ? splitHashtags(tok.content) : null;
      if (!parts || !parts.some((p) => p.tag)) {
        out.push(tok);
        continue;
      }
      for (const p of parts) {
        if (!p.tag) {
          const t = new state.Token("text", "", 0);
          t.content = p.text;
          out.push(t);
          continue;
        }
        const open = new state.Token("link_open", "a", 1);
        open.attrs = [["href", tagHref(p.tag)], ["class", "hashtag"]];
        const text = new state.Token("text", "", 0);
        text.content = p.text;
        out.push(open, text, new state.Token("link_close", "a", -1));
      }
    }
    block.children = out;
  }
});

export function Markdown({ source, class: cls }: { source: string; class?: string }) {
  return <div class={"markdown " + (cls ?? "")} dangerouslySetInnerHTML={{ __html: md.render(source) }} />;
}
