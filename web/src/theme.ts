// Light, dark, or the system's choice (prefers-color-scheme), kept in localStorage.
import { store } from "./store";

export type Theme = "auto" | "light" | "dark";

export function currentTheme(): Theme {
  const v = localStorage.getItem("causerie.theme");
  return v === "light" || v === "dark" ? v : "auto";
}

export function applyTheme(): void {
  const th = currentTheme();
  if (th === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = th;
}

export function setTheme(th: Theme): void {
  localStorage.setItem("causerie.theme", th);
  applyTheme();
  store.changed();
}
