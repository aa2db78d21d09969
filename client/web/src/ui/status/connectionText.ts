import type { ConnectionState } from "../../document/types";

export type Tone = "ok" | "busy" | "warn" | "error";

/** What the indicator says for a connection state, and its colour. */
export function connectionText(state: ConnectionState): {
  text: string;
  tone: Tone;
} {
  switch (state.phase) {
    case "connected":
      return { text: "Connected", tone: "ok" };
    case "syncing":
      return { text: "Syncing…", tone: "busy" };
    case "connecting":
      return { text: "Connecting…", tone: "busy" };
    case "reconnecting":
      return {
        text: withUnsynced("Reconnecting…", state.unsynced),
        tone: "warn",
      };
    case "offline":
      return { text: `Offline — ${changes(state.unsynced)}`, tone: "warn" };
    case "closed":
      return {
        text: state.retrying ? "Reconnecting…" : "Disconnected",
        tone: "error",
      };
  }
}

function changes(count: number): string {
  return `${count} unsynced change${count === 1 ? "" : "s"}`;
}

function withUnsynced(text: string, count: number): string {
  return count > 0 ? `${text} (${changes(count)})` : text;
}

/** The banner's text, when the person should know or do something; else null. */
export function connectionBanner(state: ConnectionState): string | null {
  if (!state.message) return null;
  if (state.phase === "connected" || state.phase === "syncing") return null;
  return state.message;
}
