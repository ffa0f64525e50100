// The app's state, in one place: what the XMPP modules learnt and the UI shows. Modules change it and call
// `changed()`; components re-render through `useStore`. Single-threaded (the page's event loop).
import { useEffect, useState } from "preact/hooks";

export type Presence = "online" | "away" | "offline";

export interface Contact {
  jid: string;
  name: string;
  subscription: "none" | "to" | "from" | "both";
  pendingOut: boolean; // we asked and wait for an answer
  groups: string[];
  presence: Presence;
}

export interface ChatMessage {
  id: string; // the stanza id, or the archive id for archived messages
  archiveId?: string;
  peer: string; // the other party's bare JID
  outgoing: boolean;
  body: string;
  stamp: number; // ms since the epoch
  receipt?: boolean; // XEP-0184 receipt received
  displayed?: boolean; // XEP-0333: the peer showed it (ours only)
  markable?: boolean; // XEP-0333: the sender asks for markers
  corrected?: boolean; // XEP-0308: the body is the latest correction
  replyTo?: string; // XEP-0461: the id of the message answered
  reactions?: Record<string, string[]>; // XEP-0444: bare JID → their reactions
  picture?: Picture; // XEP-0447: a picture shared inline, with its thumbnail and BlurHash
}

// A picture of a post or message: its original (an Atom enclosure) and what the server's media service
// (urn:causerie:media:0, docs/protocol/media.md) made of it — a XEP-0264 thumbnail and a BlurHash.
export interface Picture {
  url: string;
  type: string;
  width?: number;
  height?: number;
  thumb?: { url: string; width?: number; height?: number };
  blurhash?: string;
}

// What the server's link preview service (urn:causerie:preview:0, docs/protocol/previews.md) says of a page.
export interface LinkPreview {
  url: string;
  title: string;
  description: string;
  siteName: string;
  image?: string; // through the server's image proxy
}

export interface Post {
  owner: string; // the bare JID whose PEP node holds it
  id: string; // item id
  title: string;
  content: string;
  published: number;
  access: "open" | "presence" | "roster" | "unknown";
  groups?: string[]; // the roster groups it is meant for (docs/protocol/audiences.md), when it says so
  tags?: string[]; // Atom categories (hashtags)
  edited?: boolean; // updated after it was published
  authorName: string;
  comments?: { service: string; node: string }; // XEP-0277 §6: where its discussion lives
  images?: Picture[]; // Atom enclosures of image types (XEP-0472 galleries), with their thumbnails
  community?: { service: string; node: string }; // a community's post (owner is then its publisher)
  kinds?: string[]; // why the server's feed holds it (docs/protocol/feed.md), when it came from there
}

export type FeedFilter = "all" | "people" | "communities" | "mentions";

// The server's news feed (urn:causerie:feed:0) when the server offers it, else the client's aggregation.
export interface FeedState {
  server: boolean; // the account's disco#info lists urn:causerie:feed:0
  attachments: boolean; // … and urn:xmpp:pubsub-attachments:1 (likes counted by the server)
  filter: FeedFilter;
  last?: string; // RSM id of the oldest entry loaded, for "more"
  complete: boolean;
  loading: boolean;
}

export interface Comment {
  id: string;
  publisher: string; // bare JID the service stamped (XEP-0060 §7.1.2 publisher)
  authorName: string;
  text: string;
  published: number;
}

export interface RoomMessage {
  id: string; // the room's stanza id when it gave one (XEP-0359), else the message id
  nick: string;
  body: string;
  stamp: number;
  mine: boolean;
  fromRoomArchive?: boolean; // the id is the room's stanza-id (XEP-0359), so a moderator can retract it
  retracted?: boolean; // XEP-0425: a moderator retracted it
}

export interface Room {
  jid: string; // bare room JID
  nick: string;
  joined: boolean;
  subject: string;
  occupants: Map<string, { nick: string; role: string; affiliation: string; jid?: string }>;
  messages: RoomMessage[];
  error?: string;
}

export interface Profile {
  fn: string;
  nickname: string;
  note: string;
  avatar?: string; // an object URL of the XEP-0084 image
  avatarId?: string;
  banner?: string; // the URL of their banner (Movim's urn:xmpp:movim-banner:0), when on our origin
}

// Who a person follows and who follows them (XEP-0465 public subscriptions), as their server lists them.
export interface Follows {
  follows?: string[]; // bare JIDs whose microblog they subscribed to publicly
  followers?: string[]; // bare JIDs subscribed publicly to their microblog
  following?: boolean; // we are subscribed to their microblog (XEP-0060 §5.6, asked of their service)
}

export interface Community {
  service: string;
  node: string;
  title: string;
  description: string;
  type: string; // XEP-0472 pubsub#type
  subscribers?: number;
  items?: number;
  subscribed: boolean;
  pending?: boolean; // our subscription waits for an owner's approval
  loaded?: boolean; // our subscription and affiliation are known
  affiliation: string; // ours: owner, publisher, member, none…
}

// A community's member as its owner sees it (XEP-0060 §8.8–8.9).
export interface Member {
  jid: string;
  affiliation: string;
  subscription: string;
}

// A subscription request an owner has to answer (XEP-0060 §8.6).
export interface PendingRequest {
  service: string;
  node: string;
  jid: string;
  subid: string;
}

export interface State {
  me: string | null;
  connecting: boolean;
  error: string | null;
  contacts: Map<string, Contact>;
  requests: string[]; // bare JIDs asking to see our presence
  chats: Map<string, ChatMessage[]>;
  historyLoaded: Set<string>;
  unread: Map<string, number>;
  typing: Set<string>; // peers composing a message to us now (XEP-0085)
  posts: Map<string, Post>; // key owner + " " + id
  comments: Map<string, Comment[]>; // key: comments service + " " + node
  rooms: Map<string, Room>;
  profiles: Map<string, Profile>; // bare JID → what their vCard4 and avatar say
  communities: Map<string, Community>; // key: service + " " + node
  communityPosts: Map<string, Post[]>; // same key, newest first
  communityMembers: Map<string, Member[]>; // same key; for owners
  pendingRequests: Map<string, PendingRequest[]>; // same key; for owners
  feed: FeedState;
  likes: Map<string, number>; // XEP-0470 summaries' <noticed count/>, key: service + " " + node + " " + item
  liked: Set<string>; // same key: items we noticed (our attachment or our "♥" comment)
  previews: Map<string, LinkPreview | null>; // by URL; null: asked, no preview (or still waiting)
  previewService: boolean; // our domain offers urn:causerie:preview:0
  people: Map<string, Follows>; // bare JID → who they follow and who follows them
  blocked: Set<string>; // XEP-0191 blocklist (JIDs as the server lists them)
}

function initial(): State {
  return {
    me: null,
    connecting: false,
    error: null,
    contacts: new Map(),
    requests: [],
    chats: new Map(),
    historyLoaded: new Set(),
    unread: new Map(),
    typing: new Set(),
    posts: new Map(),
    comments: new Map(),
    rooms: new Map(),
    profiles: new Map(),
    communities: new Map(),
    communityPosts: new Map(),
    communityMembers: new Map(),
    pendingRequests: new Map(),
    feed: { server: false, attachments: false, filter: "all", complete: false, loading: false },
    likes: new Map(),
    liked: new Set(),
    previews: new Map(),
    previewService: false,
    people: new Map(),
    blocked: new Set(),
  };
}

class Store {
  state: State = initial();
  private version = 0;
  private subscribers = new Set<(v: number) => void>();

  changed(): void {
    this.version++;
    const v = this.version;
    for (const f of this.subscribers) f(v);
  }

  reset(): void {
    this.state = initial();
    this.changed();
  }

  subscribe(f: (v: number) => void): () => void {
    this.subscribers.add(f);
    return () => this.subscribers.delete(f);
  }
}

export const store = new Store();

export function useStore(): State {
  const [, setVersion] = useState(0);
  useEffect(() => store.subscribe(setVersion), []);
  return store.state;
}
