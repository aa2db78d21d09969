/**
 * WebSocket close codes of the Nexus server (docs/protocol.md, "Close codes") mapped to what the
 * person should read and whether the connection may be retried.
 */

export interface CloseInfo {
  readonly code: number | null;
  /** false: reconnecting cannot help (the provider must stop) */
  readonly retry: boolean;
  /** actionable text for the person, or null when there is nothing to say */
  readonly message: string | null;
}

interface CodeText {
  readonly retry: boolean;
  readonly message: string | null;
  /** append the server's close reason (it names the bad value) */
  readonly withReason?: boolean;
}

const CODES: Readonly<Record<number, CodeText>> = {
  1000: { retry: true, message: null },
  1001: { retry: true, message: "The server is restarting or closed this document; reconnecting…" },
  1002: {
    retry: true,
    message: "The server refused a malformed message from this app (a bug); reconnecting. Reload the page if it repeats.",
    withReason: true,
  },
  1003: { retry: true, message: "The app sent a text frame the server does not accept (a bug); reconnecting." },
  1005: { retry: true, message: "The connection closed; reconnecting…" },
  1006: { retry: true, message: "The connection to the server was lost; reconnecting…" },
  1007: {
    retry: true,
    message: "The server could not apply an edit from this app; reconnecting to resync. Reload the page if it repeats.",
    withReason: true,
  },
  1008: { retry: true, message: "You sent too much too fast; reconnecting in a moment." },
  1009: {
    retry: true,
    message: "An edit was too large to send in one piece; reconnecting. Try making it in smaller steps.",
  },
  1011: { retry: true, message: "The server could not load this document; retrying shortly." },
  1013: { retry: true, message: "Too many connections from this address; retrying in a moment." },
  4008: { retry: true, message: "The connection fell behind the other editors; reconnecting to catch up." },
  4400: { retry: false, message: "This document id is invalid — not retried.", withReason: true },
  4401: { retry: false, message: "Your sign-in has expired: sign in again to keep editing — not retried." },
  4403: { retry: false, message: "Your access to this document was revoked (the share link or membership is gone) — not retried." },
  4413: {
    retry: false,
    message:
      "The document is full: the last edit would make it larger than the server allows and was not saved. Not retried — reload the page to keep editing without it.",
  },
};

/** What a close with this code (null: closed by this app) means for the person. */
export function describeClose(code: number | null, reason = ""): CloseInfo {
  if (code === null) return { code, retry: true, message: null };
  const known = CODES[code];
  if (known === undefined) {
    // Like y-websocket: 4400-4499 are permanent refusals, everything else is transient.
    const permanent = code >= 4400 && code < 4500;
    const detail = reason ? `: ${reason}` : "";
    const message = permanent
      ? `The server refused this connection (code ${code}${detail}) — not retried.`
      : `The connection closed (code ${code}${detail}); reconnecting…`;
    return { code, retry: !permanent, message };
  }
  const message = known.message && known.withReason && reason ? `${known.message} (${reason})` : known.message;
  return { code, retry: known.retry, message };
}

/** Whether the provider may reconnect after the server closed with this code. */
export function shouldRetry(code: number): boolean {
  return describeClose(code).retry;
}
