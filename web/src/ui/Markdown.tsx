import MarkdownIt from "markdown-it";

// Posts are written in Markdown (as Movim and Causerie's public pages read them). Raw HTML in the source
// is shown as text (html: false) and markdown-it refuses javascript:/data: links, so what reaches the
// page is only the Markdown's own markup; the CSP forbids inline scripts besides.
const md = new MarkdownIt({ html: false, linkify: true, breaks: true });
const defaultLink = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet("rel", "noopener noreferrer nofollow");
  tokens[idx].attrSet("target", "_blank");
  return defaultLink(tokens, idx, options, env, self);
};

export function Markdown({ source, class: cls }: { source: string; class?: string }) {
  return <div class={"markdown " + (cls ?? "")} dangerouslySetInnerHTML={{ __html: md.render(source) }} />;
}
