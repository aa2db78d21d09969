import type { DocumentSession } from "../../document/session";
import { absoluteTime, relativeTime } from "../common/relativeTime";
import { useNow } from "../common/useNow";
import { usePeers } from "../common/usePeers";
import { useSessionValue } from "../common/useSessionValue";
import { historyItems, uniqueKeys } from "./historyView";

/** Who changed what, newest first, live. */
export function HistoryPanel({ session }: { session: DocumentSession }) {
  const entries = useSessionValue(
    session,
    (s) => s.canvas.history(),
    (c) => c.history,
  );
  const peers = usePeers(session);
  const now = useNow(30_000);
  const items = historyItems(entries, session.user.id, session.user.color, peers);
  const keys = uniqueKeys(items.map((item) => item.entry.id));

  return (
    <section
      aria-label="History"
      className="flex shrink-0 flex-col border-b border-neutral-700 bg-neutral-800 text-xs text-neutral-200"
    >
      <header className="flex items-center justify-between border-b border-neutral-700 px-3 py-2">
        <h2 className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">History</h2>
        <span className="text-[11px] text-neutral-500">{entries.length}</span>
      </header>
      {items.length === 0 ? (
        <p className="px-3 py-3 text-neutral-400">No changes yet.</p>
      ) : (
        <ol aria-label="Changes" className="max-h-72 overflow-y-auto">
          {items.map(({ entry, color, mine }, i) => (
            <li key={keys[i]} className="flex items-start gap-2 border-b border-neutral-700/50 px-3 py-1">
              <span
                className="mt-1 h-2 w-2 shrink-0 rounded-full"
                style={{ backgroundColor: color }}
                aria-hidden="true"
              />
              <div className="min-w-0 flex-1">
                <div className="truncate" title={entry.label}>
                  {entry.label || entry.action}
                </div>
                <div className="flex gap-1 text-[10px] text-neutral-400">
                  <span className="truncate">{entry.name || entry.user}</span>
                  {mine ? <span className="rounded bg-neutral-700 px-1 text-neutral-300">you</span> : null}
                  <span className="ml-auto shrink-0" title={absoluteTime(entry.at)}>
                    {relativeTime(entry.at, now)}
                  </span>
                </div>
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
