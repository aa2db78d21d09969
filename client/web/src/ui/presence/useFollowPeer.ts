import { useEffect } from "react";
import type { PeerPresence } from "../../document/types";
import { useEditorStore } from "../../store/editorStore";
import { cameraFollowing, sameCamera } from "./followCamera";

/**
 * While the store follows a peer, keep our camera showing their view (store.followCamera);
 * stop following when they leave. `width` x `height` is our canvas area.
 */
export function useFollowPeer(peers: readonly PeerPresence[], width: number, height: number): PeerPresence | null {
  const following = useEditorStore((s) => s.following);
  const followed = following === null ? null : (peers.find((p) => p.clientId === following) ?? null);
  const viewport = followed?.viewport ?? null;

  useEffect(() => {
    if (following !== null && followed === null) useEditorStore.getState().setFollowing(null);
  }, [following, followed]);

  useEffect(() => {
    if (!viewport) return;
    const camera = cameraFollowing(viewport, width, height);
    const store = useEditorStore.getState();
    if (camera && !sameCamera(camera, store.camera)) store.followCamera(camera);
  }, [viewport, width, height]);

  return followed;
}
