// English and French strings (the browser's language by default, the choice kept in localStorage).
// Every string the UI shows goes through `t`.
import { store } from "./store";

const en = {
  appName: "Causerie",
  signIn: "Sign in",
  signOut: "Sign out",
  address: "Address (user@server)",
  password: "Password",
  connecting: "Connecting…",
  "error.not-authorized": "Wrong address or password.",
  "error.unreachable": "The server could not be reached.",
  "error.bad-jid": "An address looks like user@server.",
  feed: "News",
  chats: "Chats",
  contacts: "Contacts",
  settings: "Settings",
  writePost: "Write a post",
  postTitle: "Title (optional)",
  postText: "What's new?",
  publish: "Publish",
  audience: "Visible to",
  audienceContacts: "My contacts",
  audienceEveryone: "Everyone",
  noPosts: "No posts yet. Follow people or write the first one.",
  delete: "Delete",
  addContact: "Add a contact",
  contactAddress: "Their address",
  contactName: "Name (optional)",
  add: "Add",
  requests: "Contact requests",
  accept: "Accept",
  refuse: "Refuse",
  online: "online",
  away: "away",
  offline: "offline",
  waiting: "waiting for an answer",
  noContacts: "No contacts yet.",
  noChats: "No conversations yet. Open one from your contacts.",
  message: "Message",
  send: "Send",
  olderMessages: "Older messages",
  delivered: "delivered",
  language: "Language",
  theme: "Theme",
  themeAuto: "Same as the system",
  themeLight: "Light",
  themeDark: "Dark",
  signedInAs: "Signed in as",
  visibleContacts: "contacts",
  visibleEveryone: "public",
  publicBlog: "Public blog",
  chatWith: "Chat",
  back: "Back",
  remove: "Remove",
  allowComments: "Allow comments",
  comments: "Comments",
  likes: "likes",
  writeComment: "Write a comment",
  joinRoom: "Join or create a room",
  roomAddress: "Room (name or address)",
  nickname: "Nickname",
  join: "Join",
  rooms: "Rooms",
  leave: "Leave",
  occupants: "People here",
  roomError: "The room refused",
  profile: "Profile",
  follow: "Add as a contact",
  editProfile: "My profile",
  avatar: "Picture",
  fullName: "Name",
  bio: "About me",
  save: "Save",
  saved: "Saved.",
  myProfile: "See my profile",
};

export type Key = keyof typeof en;

const fr: Record<Key, string> = {
  appName: "Causerie",
  signIn: "Se connecter",
  signOut: "Se déconnecter",
  address: "Adresse (utilisateur@serveur)",
  password: "Mot de passe",
  connecting: "Connexion…",
  "error.not-authorized": "Adresse ou mot de passe incorrect.",
  "error.unreachable": "Impossible de joindre le serveur.",
  "error.bad-jid": "Une adresse a la forme utilisateur@serveur.",
  feed: "Actualités",
  chats: "Discussions",
  contacts: "Contacts",
  settings: "Réglages",
  writePost: "Écrire un billet",
  postTitle: "Titre (facultatif)",
  postText: "Quoi de neuf ?",
  publish: "Publier",
  audience: "Visible par",
  audienceContacts: "Mes contacts",
  audienceEveryone: "Tout le monde",
  noPosts: "Aucun billet pour l’instant. Suivez des gens ou écrivez le premier.",
  delete: "Supprimer",
  addContact: "Ajouter un contact",
  contactAddress: "Son adresse",
  contactName: "Nom (facultatif)",
  add: "Ajouter",
  requests: "Demandes de contact",
  accept: "Accepter",
  refuse: "Refuser",
  online: "en ligne",
  away: "absent",
  offline: "hors ligne",
  waiting: "en attente de réponse",
  noContacts: "Aucun contact pour l’instant.",
  noChats: "Aucune discussion pour l’instant. Ouvrez-en une depuis vos contacts.",
  message: "Message",
  send: "Envoyer",
  olderMessages: "Messages plus anciens",
  delivered: "distribué",
  language: "Langue",
  theme: "Thème",
  themeAuto: "Comme le système",
  themeLight: "Clair",
  themeDark: "Sombre",
  signedInAs: "Connecté en tant que",
  visibleContacts: "contacts",
  visibleEveryone: "public",
  publicBlog: "Blog public",
  chatWith: "Discuter",
  back: "Retour",
  remove: "Retirer",
  allowComments: "Autoriser les commentaires",
  comments: "Commentaires",
  likes: "j’aime",
  writeComment: "Écrire un commentaire",
  joinRoom: "Rejoindre ou créer un salon",
  roomAddress: "Salon (nom ou adresse)",
  nickname: "Pseudo",
  join: "Rejoindre",
  rooms: "Salons",
  leave: "Quitter",
  occupants: "Présents",
  roomError: "Le salon a refusé",
  profile: "Profil",
  follow: "Ajouter aux contacts",
  editProfile: "Mon profil",
  avatar: "Photo",
  fullName: "Nom",
  bio: "À propos de moi",
  save: "Enregistrer",
  saved: "Enregistré.",
  myProfile: "Voir mon profil",
};

export type Lang = "en" | "fr";
const dictionaries: Record<Lang, Record<Key, string>> = { en, fr };

function initialLang(): Lang {
  const saved = localStorage.getItem("causerie.lang");
  if (saved === "en" || saved === "fr") return saved;
  return navigator.language.toLowerCase().startsWith("fr") ? "fr" : "en";
}

let lang: Lang = initialLang();

export function currentLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  localStorage.setItem("causerie.lang", l);
  document.documentElement.lang = l;
  store.changed();
}

export function t(k: Key): string {
  return dictionaries[lang][k];
}

export function formatTime(ms: number): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short" }).format(new Date(ms));
}
