/**
 * From the document (meta + layers) to a composite plan: which layers draw (visible, opacity
 * above 0, raster or paint, as the server's compositor chooses them), with what pixels, where,
 * and a key per layer that changes whenever its contribution may. Paint layers are rasterized
 * here (lazily, only those marked changed); raster layers' images come from the blob store.
 */

import type { CanvasMeta, Layer } from "../document/types";
import type { BlobTextures } from "./blobTextures";
import { backgroundPremultiplied } from "./color";
import type { CompositePlan, PlannedLayer } from "./compositor";
import { dissolveSeed, roundHalfEven } from "./dissolve";
import { marginFor, PaintLayer } from "./paintLayer";
import { isDrawn, paintBox } from "./drawnLayers";
import type { Box } from "./passes";

/** The layers' pixel sources (paint rasters, blob images) and the plans built from them. */
export class Scene {
  private readonly paint = new Map<string, PaintLayer>();
  private stale: Set<string> | "all" = "all";
  private size: [number, number] = [0, 0];

  constructor(private readonly blobs: BlobTextures) {}

  /** Mark layers whose strokes or offset may have changed ("all" after a reload). */
  markChanged(ids: Iterable<string> | "all"): void {
    if (ids === "all" || this.stale === "all") {
      this.stale = "all";
      return;
    }
    for (const id of ids) this.stale.add(id);
  }

  /** Build the plan; `activeId` bounds the cache (the layers below it may be cached). */
  plan(meta: CanvasMeta, layers: readonly Layer[], activeId: string | null): CompositePlan {
    this.syncPaint(meta, layers);
    const planned: PlannedLayer[] = [];
    let cacheBelow = -1;
    for (const layer of layers) {
      if (layer.id === activeId) cacheBelow = planned.length;
      if (!isDrawn(layer)) continue;
      const item = this.planLayer(layer);
      if (item) planned.push(item);
    }
    return {
      width: meta.width,
      height: meta.height,
      background: backgroundPremultiplied(meta.background),
      layers: planned,
      cacheBelow: cacheBelow < 0 ? planned.length : cacheBelow,
    };
  }

  /** Whether a drawn raster layer still waits for its image. */
  pending(layers: readonly Layer[]): boolean {
    return layers.some(
      (layer) => isDrawn(layer) && layer.kind === "raster" && layer.blob !== null && this.blobs.loading(layer.blob),
    );
  }

  destroy(): void {
    for (const paint of this.paint.values()) paint.destroy();
    this.paint.clear();
  }

  private planLayer(layer: Layer): PlannedLayer | null {
    const opacity = Math.min(Math.max(layer.opacity, 0), 100) / 100;
    const common = {
      mode: layer.blendMode,
      opacity,
      seed: layer.blendMode === "dissolve" ? dissolveSeed(layer.id) : 0,
      origin: [roundHalfEven(layer.x), roundHalfEven(layer.y)] as const,
    };
    const props = `${layer.id}:${layer.blendMode}:${opacity}:${layer.x}:${layer.y}`;
    if (layer.kind === "paint") {
      const paint = this.paint.get(layer.id);
      const box = paintBox(layer);
      if (!paint || !box) return null;
      const draw = { ...common, texture: paint.source, straight: false, rect: [-paint.margin, -paint.margin, paint.width, paint.height] as const };
      return { draw, box, key: `${props}:p${paint.version}` };
    }
    if (!layer.blob) return null;
    const image = this.blobs.get(layer.blob);
    if (!image) return null;
    const box: Box = [
      Math.floor(layer.x) - 1,
      Math.floor(layer.y) - 1,
      Math.ceil(layer.x + image.width) + 1,
      Math.ceil(layer.y + image.height) + 1,
    ];
    const rect = [layer.x, layer.y, image.width, image.height] as const;
    const draw = { ...common, texture: image.source, straight: true, rect };
    return { draw, box, key: `${props}:r${layer.blob}` };
  }

  private syncPaint(meta: CanvasMeta, layers: readonly Layer[]): void {
    if (this.size[0] !== meta.width || this.size[1] !== meta.height) {
      for (const paint of this.paint.values()) paint.destroy();
      this.paint.clear();
      this.size = [meta.width, meta.height];
      this.stale = "all";
    }
    const present = new Set<string>();
    const blobs = new Set<string>();
    const stillStale = new Set<string>();
    for (const layer of layers) {
      present.add(layer.id);
      if (layer.kind === "raster" && layer.blob) blobs.add(layer.blob);
      if (layer.kind !== "paint") continue;
      if (!isDrawn(layer)) {
        if (this.stale === "all" || this.stale.has(layer.id)) stillStale.add(layer.id);
        continue;
      }
      let paint = this.paint.get(layer.id);
      const margin = marginFor(layer);
      if (paint && paint.margin < margin) {
        paint.destroy();
        paint = undefined;
      }
      if (!paint) {
        paint = new PaintLayer(meta.width, meta.height, margin);
        this.paint.set(layer.id, paint);
        paint.update(layer);
      } else if (this.stale === "all" || this.stale.has(layer.id)) {
        paint.update(layer);
      }
    }
    for (const [id, paint] of this.paint) {
      if (present.has(id)) continue;
      paint.destroy();
      this.paint.delete(id);
    }
    this.blobs.retain(blobs);
    this.stale = stillStale;
  }
}
