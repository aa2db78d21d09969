import type { Camera, PeerPresence } from "../../document/types";

const MIN_ZOOM = 0.02;
const MAX_ZOOM = 64;

type Viewport = NonNullable<PeerPresence["viewport"]>;

/**
 * A camera for our canvas area (`width` x `height` screen px) that shows the same document
 * area as the peer's viewport, centred and fitted (the whole of their view stays visible).
 */
export function cameraFollowing(view: Viewport, width: number, height: number): Camera | null {
  const { camera } = view;
  if (!(camera.zoom > 0) || !Number.isFinite(camera.x) || !Number.isFinite(camera.y)) return null;
  const docW = view.width / camera.zoom;
  const docH = view.height / camera.zoom;
  const centreX = (view.width / 2 - camera.x) / camera.zoom;
  const centreY = (view.height / 2 - camera.y) / camera.zoom;
  let zoom = camera.zoom;
  if (width > 0 && height > 0 && docW > 0 && docH > 0) zoom = Math.min(width / docW, height / docH);
  zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
  return {
    x: width / 2 - centreX * zoom,
    y: height / 2 - centreY * zoom,
    zoom,
  };
}

/** Whether two cameras differ by more than rounding. */
export function sameCamera(a: Camera, b: Camera): boolean {
  return Math.abs(a.x - b.x) < 0.01 && Math.abs(a.y - b.y) < 0.01 && Math.abs(a.zoom - b.zoom) < 1e-6;
}

/** Screen position of a document point under `camera`. */
export function docToScreen(camera: Camera, x: number, y: number): [number, number] {
  return [camera.x + x * camera.zoom, camera.y + y * camera.zoom];
}
