import { useEffect, useState } from "preact/hooks";
import { t, type Key } from "../i18n";
import { useStore } from "../store";
import { ChatList, Conversation } from "./Chat";
import { Contacts } from "./Contacts";
import { Feed } from "./Feed";
import { Settings } from "./Settings";
import { JoinRoom, RoomList, RoomView } from "./Room";
import { ProfileView } from "./Profile";
import { CommunityView, Explore } from "./Communities";
import { TagView } from "./TagView";
import { Groups } from "./Groups";

// Hash routes: the server serves one page, and a reload keeps the place.
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || "/feed");
  useEffect(() => {
    const f = () => setRoute(location.hash.slice(1) || "/feed");
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return route;
}

const tabs: Array<[string, Key, string]> = [
  ["/feed", "feed", "◎"],
  ["/chats", "chats", "✉"],
  ["/communities", "communities", "⌂"],
  ["/contacts", "contacts", "☺"],
  ["/settings", "settings", "⚙"],
];

export function Shell() {
  const st = useStore();
  const route = useRoute();
  const unread = [...st.unread.values()].reduce((a, b) => a + b, 0);
  let page;
  if (route.startsWith("/chat/")) page = <Conversation peer={decodeURIComponent(route.slice(6))} />;
  else if (route === "/communities") page = <Explore />;
  else if (route.startsWith("/community/")) {
    const [service, node] = route.slice(11).split("/").map(decodeURIComponent);
    page = <CommunityView service={service} node={node ?? ""} />;
  } else if (route.startsWith("/profile/")) page = <ProfileView jid={decodeURIComponent(route.slice(9))} />;
  else if (route.startsWith("/room/")) page = <RoomView jid={decodeURIComponent(route.slice(6))} />;
  else if (route === "/chats")
    page = (
      <>
        <JoinRoom />
        <RoomList />
        <ChatList />
      </>
    );
  else if (route.startsWith("/tag/")) page = <TagView tag={decodeURIComponent(route.slice(5))} />;
  else if (route === "/groups") page = <Groups />;
  else if (route === "/contacts") page = <Contacts />;
  else if (route === "/settings") page = <Settings />;
  else page = <Feed />;
  const active = route.startsWith("/chat/") || route.startsWith("/room/") ? "/chats"
    : route.startsWith("/community/") ? "/communities"
    : route.startsWith("/tag/") || route === "/groups" ? "/feed" : route;
  return (
    <div class="shell">
      <nav aria-label={t("appName")}>
        <span class="brand">{t("appName")}</span>
        {tabs.map(([href, key, icon]) => (
          <a href={"#" + href} key={href} aria-current={active === href ? "page" : undefined}>
            <span aria-hidden="true">{icon}</span> <span class="label">{t(key)}</span>
            {key === "chats" && unread > 0 && <span class="badge">{unread}</span>}
          </a>
        ))}
      </nav>
      <main>{page}</main>
    </div>
  );
}
