import type { HistoryEntry, PeerPresence } from "../../document/types";
import { colorForUser } from "../common/userColor";

export interface HistoryItem {
  readonly entry: HistoryEntry;
  readonly color: string;
  readonly mine: boolean;
}

/**
 * The history newest first, each entry with its author's colour (from presence when that
 * person is here, else a stable colour from the user id) and whether it is the local user's.
 */
export function historyItems(
  entries: readonly HistoryEntry[],
  selfId: string,
  selfColor: string,
  peers: readonly PeerPresence[],
): HistoryItem[] {
  const colors = new Map<string, string>();
  for (const peer of peers) colors.set(peer.user.id, peer.user.color);
  colors.set(selfId, selfColor);
  const items = entries.map((entry, order) => ({ entry, order }));
  items.sort((a, b) => b.entry.at - a.entry.at || b.order - a.order);
  return items.map(({ entry }) => ({
    entry,
    color: colors.get(entry.user) ?? colorForUser(entry.user),
    mine: entry.user === selfId,
  }));
}

/** React keys from entry ids, made unique ("" and repeated ids get a suffix). */
export function uniqueKeys(ids: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return ids.map((id) => {
    const count = seen.get(id) ?? 0;
    seen.set(id, count + 1);
    return count === 0 && id !== "" ? id : `${id}~${count}`;
  });
}
