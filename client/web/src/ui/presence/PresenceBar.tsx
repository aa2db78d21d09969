import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { usePeers } from "../common/usePeers";
import { Avatar } from "./Avatar";
import { presenceTitle } from "./presenceText";
import { useLayerNames } from "./useLayerNames";

const MAX_SHOWN = 6;

/** Everyone in the document (you first); click someone to follow their view. */
export function PresenceBar({ session }: { session: DocumentSession }) {
  const peers = usePeers(session);
  const names = useLayerNames(session);
  const following = useEditorStore((s) => s.following);
  const setFollowing = useEditorStore((s) => s.setFollowing);
  const activeLayerId = useEditorStore((s) => s.activeLayerId);
  const shown = peers.slice(0, MAX_SHOWN);
  const hidden = peers.slice(MAX_SHOWN);
  const layerName = (id: string | null) => (id === null ? null : (names.get(id) ?? null));

  return (
    <ul aria-label="People here" className="flex items-center -space-x-1">
      <li
        title={presenceTitle(session.user.name, layerName(activeLayerId), {
          self: true,
        })}
        data-testid="presence-self"
      >
        <Avatar name={session.user.name} color={session.user.color} />
      </li>
      {shown.map((peer) => {
        const isFollowed = following === peer.clientId;
        return (
          <li key={peer.clientId}>
            <button
              type="button"
              data-testid="presence-peer"
              aria-label={isFollowed ? `Stop following ${peer.user.name}` : `Follow ${peer.user.name}`}
              aria-pressed={isFollowed}
              title={presenceTitle(peer.user.name, layerName(peer.layerId), {
                following: isFollowed,
              })}
              onClick={() => setFollowing(isFollowed ? null : peer.clientId)}
              className="rounded-full transition-transform hover:z-10 hover:scale-110"
            >
              <Avatar name={peer.user.name} color={peer.user.color} ring={isFollowed} />
            </button>
          </li>
        );
      })}
      {hidden.length > 0 ? (
        <li
          className="inline-flex h-6 min-w-6 items-center justify-center rounded-full border-2 border-neutral-800 bg-neutral-600 px-1 text-[10px] text-white"
          title={hidden.map((p) => p.user.name).join(", ")}
        >
          +{hidden.length}
        </li>
      ) : null}
    </ul>
  );
}
