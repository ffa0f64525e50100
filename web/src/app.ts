// The signed-in session and what starts with it: the XMPP modules in order, then presence.
import { forgetToken, Session, storedToken, type Secret } from "./xmpp/session";
import { startRoster } from "./xmpp/roster";
import { startChat } from "./xmpp/chat";
import { startMicroblog, refreshFeed } from "./xmpp/microblog";
import { startComments } from "./xmpp/comments";
import { detectFeed, loadFeedPage, startFeed } from "./xmpp/feed";
import { startLikes } from "./xmpp/likes";
import { joinBookmarkedRooms, startRooms } from "./xmpp/rooms";
import { loadProfile, startProfiles } from "./xmpp/profile";
import { startCommunities } from "./xmpp/communities";
import { startPeople } from "./xmpp/people";
import { forgetUploadService } from "./xmpp/upload";
import { detectPreviews } from "./xmpp/previews";
import { store } from "./store";

let current: Session | null = null;

export function session(): Session {
  if (!current) throw new Error("not signed in");
  return current;
}

export async function signIn(address: string, secret: Secret): Promise<void> {
  store.state.connecting = true;
  store.state.error = null;
  store.changed();
  try {
    const s = await Session.open(address.trim(), secret);
    current = s;
    s.onClosed((why) => {
      if (current !== s) return;
      void signOut().then(() => {
        if (why !== "stream-error") return;
        store.state.error = "ended"; // the server ended the session: say so, and do not come back by itself
        store.changed();
      });
    });
    localStorage.setItem("causerie.jid", s.bare);
    store.state.me = s.bare;
    startMicroblog(s);
    startComments(s);
    startFeed(s);
    startLikes(s);
    startRooms(s);
    startProfiles(s);
    startCommunities(s);
    await startRoster(s);
    void startPeople(s);
    await startChat(s);
    await s.sendPresence();
    await detectFeed(s);
    void detectPreviews(s);
    if (store.state.feed.server) void loadFeedPage(s, false).catch(() => {});
    else void refreshFeed(s);
    void joinBookmarkedRooms(s);
    void loadProfile(s, s.bare);
  } catch (e) {
    store.state.error = String((e as Error).message ?? e);
    if (store.state.error === "token-refused") forgetToken();
  } finally {
    store.state.connecting = false;
    store.changed();
  }
}

// On opening the page: sign in with the FAST token this browser kept, if any. Once per page load: a
// session the server ended (another tab of this browser took its place, say) does not come back by itself.
let resumed = false;

export async function resume(): Promise<void> {
  if (resumed) return;
  resumed = true;
  const t = storedToken();
  if (t && !current && !store.state.connecting) await signIn(t.jid, { token: t });
}

// `forget`: the user signed out, so the token goes too (a lost connection keeps it, to come back).
export async function signOut(forget = false): Promise<void> {
  if (forget) forgetToken();
  const s = current;
  current = null;
  forgetUploadService();
  store.reset();
  if (s) await s.close();
}
