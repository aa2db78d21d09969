/**
 * Presence: who else is in the document, where their pointer is, which layer they work on and
 * what part of the canvas they look at, carried by y-protocols awareness (never by the Y.Doc).
 */
import type { Awareness } from "y-protocols/awareness";
import type { Camera, LocalUser, PeerPresence } from "../document/types";

/** The local awareness state, as every client announces it. */
export interface PresenceState {
  user: { id: string; name: string; color: string };
  cursor: [number, number] | null;
  layer: string | null;
  viewport: { camera: Camera; width: number; height: number } | null;
}

type Viewport = PresenceState["viewport"];

const COLOR = /^#[0-9a-fA-F]{6}$/;
const FALLBACK_COLOR = "#a3a3a3";
/** ~30 updates a second */
export const CURSOR_INTERVAL_MS = 33;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function finite(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function parseUser(value: unknown): LocalUser | null {
  if (!isRecord(value)) return null;
  const { id, name, color } = value;
  if (typeof id !== "string" || id.length === 0 || id.length > 64) return null;
  return {
    id,
    name: typeof name === "string" && name.trim() ? name.slice(0, 100) : id,
    color: typeof color === "string" && COLOR.test(color) ? color.toLowerCase() : FALLBACK_COLOR,
  };
}

function parseCursor(value: unknown): [number, number] | null {
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [x, y] = value;
  return finite(x) && finite(y) ? [x, y] : null;
}

function parseViewport(value: unknown): Viewport {
  if (!isRecord(value) || !isRecord(value.camera)) return null;
  const { x, y, zoom } = value.camera;
  const { width, height } = value;
  if (!finite(x) || !finite(y) || !finite(zoom) || zoom <= 0) return null;
  if (!finite(width) || !finite(height) || width < 0 || height < 0) return null;
  return { camera: { x, y, zoom }, width, height };
}

/** One peer's awareness state read tolerantly; null when it carries no usable user. */
export function parsePeer(clientId: number, state: unknown): PeerPresence | null {
  if (!isRecord(state)) return null;
  const user = parseUser(state.user);
  if (user === null) return null;
  const layer = state.layer;
  return {
    clientId,
    user,
    cursor: parseCursor(state.cursor),
    layerId: typeof layer === "string" && layer.length > 0 && layer.length <= 128 ? layer : null,
    viewport: parseViewport(state.viewport),
  };
}

/** The local person's presence and the list of peers, over a y-protocols Awareness. */
export class Presence {
  readonly awareness: Awareness;
  private readonly listeners = new Set<(peers: PeerPresence[]) => void>();
  private lastCursorAt = Number.NEGATIVE_INFINITY;
  private pendingCursor: [number, number] | null = null;
  private cursorTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly onChange = (changes: { added: number[]; updated: number[]; removed: number[] }) => {
    const self = this.awareness.clientID;
    const all = [...changes.added, ...changes.updated, ...changes.removed];
    if (all.every((id) => id === self)) return; // only our own state changed
    const peers = this.peers();
    for (const listener of this.listeners) listener(peers);
  };

  constructor(awareness: Awareness, user: LocalUser) {
    this.awareness = awareness;
    const state: PresenceState = {
      user: { id: user.id, name: user.name, color: user.color },
      cursor: null,
      layer: null,
      viewport: null,
    };
    awareness.setLocalState(state);
    awareness.on("change", this.onChange);
  }

  setUser(user: LocalUser): void {
    this.awareness.setLocalStateField("user", { id: user.id, name: user.name, color: user.color });
  }

  /** Document coordinates of the pointer, or null when it left the canvas; throttled to ~30 Hz. */
  setCursor(point: [number, number] | null): void {
    const value: [number, number] | null = point === null ? null : [point[0], point[1]];
    const wait = this.lastCursorAt + CURSOR_INTERVAL_MS - Date.now();
    if (wait <= 0 && this.cursorTimer === null) {
      this.sendCursor(value);
      return;
    }
    this.pendingCursor = value; // the trailing call is kept
    if (this.cursorTimer === null) {
      this.cursorTimer = setTimeout(() => {
        this.cursorTimer = null;
        this.sendCursor(this.pendingCursor);
      }, Math.max(0, wait));
    }
  }

  private sendCursor(point: [number, number] | null): void {
    this.lastCursorAt = Date.now();
    if (this.awareness.getLocalState() !== null) this.awareness.setLocalStateField("cursor", point);
  }

  setLayer(layerId: string | null): void {
    this.awareness.setLocalStateField("layer", layerId);
  }

  setViewport(v: Viewport): void {
    this.awareness.setLocalStateField(
      "viewport",
      v === null ? null : { camera: { x: v.camera.x, y: v.camera.y, zoom: v.camera.zoom }, width: v.width, height: v.height },
    );
  }

  /** The other clients (not this one), skipping states without a usable user. */
  peers(): PeerPresence[] {
    const peers: PeerPresence[] = [];
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.awareness.clientID) continue;
      const peer = parsePeer(clientId, state);
      if (peer !== null) peers.push(peer);
    }
    return peers.sort((a, b) => a.clientId - b.clientId);
  }

  /** Called with the new peer list whenever a peer joins, leaves or changes its state. */
  onPeers(listener: (peers: PeerPresence[]) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  destroy(): void {
    if (this.cursorTimer !== null) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
    this.awareness.off("change", this.onChange);
    this.listeners.clear();
  }
}
