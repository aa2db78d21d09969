import type { DocumentSession } from "../../document/session";
import { connectionBanner, connectionText, type Tone } from "./connectionText";
import { useConnection } from "./useConnection";

const DOT: Record<Tone, string> = {
  ok: "bg-emerald-500",
  busy: "bg-sky-400 animate-pulse",
  warn: "bg-amber-400",
  error: "bg-red-500",
};

/** The connection state in the top bar. */
export function ConnectionIndicator({ session }: { session: DocumentSession }) {
  const state = useConnection(session);
  const { text, tone } = connectionText(state);
  return (
    <div
      role="status"
      aria-label={`Connection: ${text}`}
      title={state.message ?? text}
      data-testid="connection-indicator"
      data-phase={state.phase}
      className="flex items-center gap-1.5 rounded px-2 py-1 text-xs text-neutral-300"
    >
      <span className={`h-2 w-2 rounded-full ${DOT[tone]}`} aria-hidden="true" />
      <span>{text}</span>
    </div>
  );
}

/** A banner under the top bar with what the person should know or do (server closed the connection). */
export function ConnectionBanner({ session }: { session: DocumentSession }) {
  const state = useConnection(session);
  const message = connectionBanner(state);
  if (!message) return null;
  const tone = state.retrying
    ? "border-amber-700 bg-amber-950 text-amber-100"
    : "border-red-800 bg-red-950 text-red-100";
  return (
    <div role="alert" data-testid="connection-banner" className={`border-b px-4 py-1.5 text-sm ${tone}`}>
      {message}
      {state.closeCode !== null ? <span className="ml-2 text-xs opacity-60">(code {state.closeCode})</span> : null}
      {!state.retrying ? (
        <button
          type="button"
          onClick={() => session.reconnect()}
          className="ml-3 rounded border border-current px-2 py-0.5 text-xs hover:bg-white/10"
        >
          Reconnect
        </button>
      ) : null}
    </div>
  );
}
