// Entry point: the sign-in page or the app, and the service worker that makes it installable.
import { render } from "preact";
import { currentLang } from "./i18n";
import { useStore } from "./store";
import { applyTheme } from "./theme";
import { Login } from "./ui/Login";
import { Shell } from "./ui/Shell";
import "./sw_registration";
import "./style.css";

function Root() {
  const st = useStore();
  return st.me ? <Shell /> : <Login />;
}

document.documentElement.lang = currentLang();
applyTheme();
render(<Root />, document.getElementById("app")!);
