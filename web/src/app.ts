// The signed-in session and what starts with it: the XMPP modules in order, then presence.
import { Session } from "./xmpp/session";
import { startRoster } from "./xmpp/roster";
import { startChat } from "./xmpp/chat";
import { startMicroblog, refreshFeed } from "./xmpp/microblog";
import { startComments } from "./xmpp/comments";
import { joinBookmarkedRooms, startRooms } from "./xmpp/rooms";
import { loadProfile, startProfiles } from "./xmpp/profile";
import { startCommunities } from "./xmpp/communities";
import { forgetUploadService } from "./xmpp/upload";
import { store } from "./store";

let current: Session | null = null;

export function session(): Session {
  if (!current) throw new Error("not signed in");
  return current;
}

export async function signIn(address: string, password: string): Promise<void> {
  store.state.connecting = true;
  store.state.error = null;
  store.changed();
  try {
    const s = await Session.open(address.trim(), password);
    current = s;
    s.onClosed(() => {
      if (current === s) void signOut();
    });
    localStorage.setItem("causerie.jid", s.bare);
    store.state.me = s.bare;
    startMicroblog(s);
    startComments(s);
    startRooms(s);
    startProfiles(s);
    startCommunities(s);
    await startRoster(s);
    await startChat(s);
    await s.sendPresence();
    void refreshFeed(s);
    void joinBookmarkedRooms(s);
    void loadProfile(s, s.bare);
  } catch (e) {
    store.state.error = String((e as Error).message ?? e);
  } finally {
    store.state.connecting = false;
    store.changed();
  }
}

export async function signOut(): Promise<void> {
  const s = current;
  current = null;
  forgetUploadService();
  store.reset();
  if (s) await s.close();
}
