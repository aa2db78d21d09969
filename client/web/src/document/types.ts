/**
 * The shared document's shapes as the app reads them (docs/protocol.md, "Document schema").
 * Readers (document/readers.ts) turn the Yjs maps into these plain, immutable values with the
 * same defaults as the Python readers (canvasdoc/canvas.py); keys are camelCase here, snake_case
 * in the Yjs maps.
 */

export type BlendMode =
  | "normal"
  | "dissolve"
  | "darken"
  | "multiply"
  | "color-burn"
  | "linear-burn"
  | "darker-color"
  | "lighten"
  | "screen"
  | "color-dodge"
  | "linear-dodge"
  | "lighter-color"
  | "overlay"
  | "soft-light"
  | "hard-light"
  | "vivid-light"
  | "linear-light"
  | "pin-light"
  | "hard-mix"
  | "difference"
  | "exclusion"
  | "subtract"
  | "divide"
  | "hue"
  | "saturation"
  | "color"
  | "luminosity";

export type LayerKind = "raster" | "paint" | "group";
export type StrokeTool = "brush" | "eraser";

export interface CanvasMeta {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly dpi: number;
  readonly colorProfile: string;
  /** `#rrggbb`, `#rrggbbaa` or `transparent` */
  readonly background: string;
}

export interface Stroke {
  readonly id: string;
  readonly tool: StrokeTool;
  readonly color: string;
  readonly size: number;
  readonly hardness: number;
  readonly opacity: number;
  /** flat x, y pairs in layer-local document pixels */
  readonly points: readonly number[];
}

export interface Layer {
  readonly id: string;
  readonly name: string;
  readonly kind: LayerKind;
  readonly blendMode: BlendMode;
  readonly opacity: number;
  readonly visible: boolean;
  readonly locked: boolean;
  readonly x: number;
  readonly y: number;
  readonly blob: string | null;
  readonly strokes: readonly Stroke[];
  readonly provenance: Readonly<Record<string, unknown>> | null;
  /**
   * Set on a staged proposal (an AI result awaiting review: `job_id`, `user` and `name` of who
   * asked, `at`): shown with a badge, left out of exports until an editor accepts it (the key
   * is removed) or discards it (the layer is removed). null on an ordinary layer. The readers
   * always set it; optional so that layer views built elsewhere (a version's layer list) may
   * leave it out, which means "not a proposal".
   */
  readonly proposal?: Readonly<Record<string, unknown>> | null;
}

export interface HistoryEntry {
  readonly id: string;
  readonly user: string;
  /** display name */
  readonly name: string;
  readonly action: string;
  readonly label: string;
  /** ms since the epoch */
  readonly at: number;
}

/** What changed in one Yjs transaction, as far as drawing is concerned. */
export interface DocumentChange {
  readonly meta: boolean;
  /** the layer list itself changed (added, removed, reordered) */
  readonly structure: boolean;
  /** layers whose properties or strokes changed */
  readonly layers: ReadonlySet<string>;
  readonly history: boolean;
  /** true when the transaction came from this replica (local edit) */
  readonly local: boolean;
}

/** The local person, as the server and the other collaborators see them. */
export interface LocalUser {
  readonly id: string;
  readonly name: string;
  /** `#rrggbb` */
  readonly color: string;
}

export type ConnectionPhase = "connecting" | "syncing" | "connected" | "offline" | "reconnecting" | "closed";

export interface ConnectionState {
  readonly phase: ConnectionPhase;
  /** local changes not yet acknowledged by the server (counted while offline/reconnecting) */
  readonly unsynced: number;
  /** the last close code the server sent, if any */
  readonly closeCode: number | null;
  /** actionable text for the person (what happened, what to do), or null */
  readonly message: string | null;
  /** false for close codes that must not be retried (4400, 4413 ...) */
  readonly retrying: boolean;
}

/** Camera: a document point (dx, dy) is drawn at screen (x + dx * zoom, y + dy * zoom). */
export interface Camera {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
}

/** What a collaborator announces through awareness (see presence/). */
export interface PeerPresence {
  readonly clientId: number;
  readonly user: LocalUser;
  /** document coordinates, or null when the pointer is outside the canvas */
  readonly cursor: readonly [number, number] | null;
  readonly layerId: string | null;
  /** the peer's view: camera plus the size of their canvas area in screen pixels */
  readonly viewport: { readonly camera: Camera; readonly width: number; readonly height: number } | null;
}
