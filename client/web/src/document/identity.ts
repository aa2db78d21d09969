/**
 * Who the local person is: `?user=` / `?name=` in the page URL win (tests use them), else the
 * identity kept in localStorage under "nexus.user", created once with a random id ("u-" + 12
 * hex digits), a friendly name ("Teal Fox") and a colour from a fixed palette.
 */
import type { LocalUser } from "./types";
import { PATTERNS } from "./validate";

export const STORAGE_KEY = "nexus.user";
const MAX_NAME = 64;

/** Pleasant, distinguishable on the dark UI, readable as cursor and avatar colours. */
export const PALETTE: readonly string[] = [
  "#14b8a6", "#f59e0b", "#f43f5e", "#6366f1", "#22c55e", "#ec4899",
  "#0ea5e9", "#a855f7", "#ef4444", "#84cc16", "#f97316", "#06b6d4",
];
const ADJECTIVES = ["Teal", "Amber", "Coral", "Indigo", "Jade", "Rose", "Azure", "Violet", "Ruby", "Lime", "Copper", "Cyan"];
const ANIMALS = ["Fox", "Otter", "Heron", "Lynx", "Owl", "Hare", "Wren", "Seal", "Ibis", "Koi", "Yak", "Finch"];

/** Whether the server accepts this user id (1-64 of letters, digits, `_.@:-`). */
export function isValidUserId(id: string): boolean {
  return PATTERNS.userId.test(id);
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A stable colour and friendly name for an id (the same id looks the same everywhere). */
export function looksFor(id: string): { name: string; color: string } {
  const h = hash(id);
  return {
    name: `${ADJECTIVES[h % ADJECTIVES.length]} ${ANIMALS[Math.floor(h / ADJECTIVES.length) % ANIMALS.length]}`,
    color: PALETTE[Math.floor(h / 997) % PALETTE.length],
  };
}

function randomHex(digits: number): string {
  const bytes = new Uint8Array(Math.ceil(digits / 2));
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, digits);
}

/** A new identity: "u-" + 12 random hex digits, with the id's friendly name and colour. */
export function createUser(): LocalUser {
  const id = `u-${randomHex(12)}`;
  return { id, ...looksFor(id) };
}

function cleanName(name: string): string {
  return name.trim().slice(0, MAX_NAME);
}

function parseStored(text: string | null): LocalUser | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    const { id, name, color } = value as Record<string, unknown>;
    if (typeof id !== "string" || !isValidUserId(id)) return null;
    const looks = looksFor(id);
    return {
      id,
      name: typeof name === "string" && cleanName(name) ? cleanName(name) : looks.name,
      color: typeof color === "string" && /^#[0-9a-f]{6}$/.test(color) ? color : looks.color,
    };
  } catch {
    return null;
  }
}

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage disabled
  }
}

let memoryUser: LocalUser | null = null;

function storedUser(): LocalUser {
  const store = storage();
  let user: LocalUser | null = null;
  try {
    user = parseStored(store?.getItem(STORAGE_KEY) ?? null);
  } catch {
    user = null;
  }
  user ??= memoryUser ?? createUser();
  memoryUser = user;
  try {
    store?.setItem(STORAGE_KEY, JSON.stringify(user));
  } catch {
    // private mode or quota: keep the identity for this page only
  }
  return user;
}

/** The local person (see the module comment for where it comes from). */
export function localUser(search: string = typeof location === "undefined" ? "" : location.search): LocalUser {
  const params = new URLSearchParams(search);
  const urlId = params.get("user");
  const urlName = params.get("name");
  if (urlId !== null && isValidUserId(urlId)) {
    const looks = looksFor(urlId);
    return { id: urlId, name: urlName && cleanName(urlName) ? cleanName(urlName) : looks.name, color: looks.color };
  }
  const user = storedUser();
  if (urlName !== null && cleanName(urlName)) return { ...user, name: cleanName(urlName) };
  return user;
}

/** Change the stored display name (and return the updated identity). */
export function setLocalUserName(name: string): LocalUser {
  const user = { ...storedUser(), name: cleanName(name) || storedUser().name };
  memoryUser = user;
  try {
    storage()?.setItem(STORAGE_KEY, JSON.stringify(user));
  } catch {
    // keep it in memory only
  }
  return user;
}
