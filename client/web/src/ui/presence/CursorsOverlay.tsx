import { useRef } from "react";
import type { DocumentSession } from "../../document/session";
import type { PeerPresence } from "../../document/types";
import { useEditorStore } from "../../store/editorStore";
import { textOn } from "../common/userColor";
import { usePeers } from "../common/usePeers";
import { docToScreen } from "./followCamera";
import { useElementSize } from "./useElementSize";
import { useFollowPeer } from "./useFollowPeer";

function PeerCursor({ peer, x, y }: { peer: PeerPresence; x: number; y: number }) {
  const color = peer.user.color;
  return (
    <div
      data-testid="peer-cursor"
      data-client-id={peer.clientId}
      className="absolute top-0 left-0 transition-transform duration-75 ease-linear will-change-transform"
      style={{ transform: `translate(${x}px, ${y}px)` }}
    >
      <svg width="16" height="20" viewBox="0 0 16 20" aria-hidden="true" className="block drop-shadow">
        <path
          d="M1 1l0 15.5 4.2-4 2.9 6.5 2.6-1.2-2.9-6.3 5.9-.3z"
          fill={color}
          stroke="#ffffff"
          strokeWidth="1.2"
          strokeLinejoin="round"
        />
      </svg>
      <span
        className="absolute top-4 left-3 whitespace-nowrap rounded px-1.5 py-0.5 text-[11px] leading-none font-medium shadow"
        style={{ backgroundColor: color, color: textOn(color) }}
      >
        {peer.user.name}
      </span>
    </div>
  );
}

/**
 * Over the canvas area (fill it: the parent must be positioned): the other people's cursors
 * and, while following someone, their view (camera) and a banner.
 */
export function CursorsOverlay({ session }: { session: DocumentSession }) {
  const ref = useRef<HTMLDivElement>(null);
  const peers = usePeers(session);
  const camera = useEditorStore((s) => s.camera);
  const setFollowing = useEditorStore((s) => s.setFollowing);
  const { width, height } = useElementSize(ref);
  const followed = useFollowPeer(peers, width, height);

  return (
    <div ref={ref} data-testid="cursors-overlay" className="pointer-events-none absolute inset-0 z-10 overflow-hidden">
      {peers.map((peer) => {
        if (!peer.cursor) return null;
        const [x, y] = docToScreen(camera, peer.cursor[0], peer.cursor[1]);
        return <PeerCursor key={peer.clientId} peer={peer} x={x} y={y} />;
      })}
      {followed ? (
        <div
          role="status"
          className="pointer-events-auto absolute top-2 left-1/2 flex -translate-x-1/2 items-center gap-2 rounded-full px-3 py-1 text-xs font-medium shadow-lg"
          style={{
            backgroundColor: followed.user.color,
            color: textOn(followed.user.color),
          }}
        >
          <span>Following {followed.user.name} — pan or zoom to stop</span>
          <button
            type="button"
            aria-label={`Stop following ${followed.user.name}`}
            onClick={() => setFollowing(null)}
            className="rounded-full px-1 leading-none opacity-80 hover:opacity-100"
          >
            ×
          </button>
        </div>
      ) : null}
    </div>
  );
}
