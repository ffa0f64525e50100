// Searching public posts by hashtag and words (urn:causerie:explore:0 on search.<domain>,
// docs/protocol/explore.md): pages newest first, each result shaped like a feed result; older pages
// through RSM `after`. Only public posts are ever found; the server normalises the tag.
import { xml } from "@xmpp/client";
import type { Session } from "./session";
import { postsOfResult } from "./feed";
import type { Post } from "../store";

export const EXPLORE = "urn:causerie:explore:0";
const RSM = "http://jabber.org/protocol/rsm";

export interface SearchPage {
  posts: Post[];
  last?: string;
  complete: boolean;
}

export function searchService(s: Session): string {
  return "search." + s.bare.split("@")[1];
}

export async function searchPosts(s: Session, q: { tag?: string; text?: string; after?: string }): Promise<SearchPage> {
  const query = xml("posts", { xmlns: EXPLORE },
    q.tag ? xml("tag", {}, q.tag) : null,
    q.text ? xml("text", {}, q.text) : null,
    q.after ? xml("set", { xmlns: RSM }, xml("after", {}, q.after)) : null);
  const res = await s.iq("get", searchService(s), query);
  const page = res.getChild("posts", EXPLORE);
  return {
    posts: (page?.getChildren("result") ?? []).flatMap(postsOfResult),
    last: page?.getChild("set", RSM)?.getChildText("last") ?? undefined,
    complete: page?.attrs.complete === "true",
  };
}
