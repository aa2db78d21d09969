/**
 * Raster layers' images, fetched from the blob store (`/api/blobs/{sha256}`), decoded as the
 * server decodes them (EXIF orientation applied, colour profiles ignored, alpha not
 * premultiplied) and uploaded unchanged: the compositing shader premultiplies in float, as the
 * server's Skia does, so no 8-bit premultiplication rounds anything away.
 */

import { ImageSource } from "pixi.js";

/** A decoded image on the GPU. */
export interface BlobTexture {
  readonly source: ImageSource;
  readonly width: number;
  readonly height: number;
}

type Entry = { state: "loading" } | { state: "ready"; texture: BlobTexture } | { state: "failed" };

/** The images of the raster layers, by sha256; `onLoad` runs when one arrives (or fails). */
export class BlobTextures {
  private readonly entries = new Map<string, Entry>();
  private destroyed = false;

  constructor(
    private readonly urlOf: (sha256: string) => string,
    private readonly onLoad: () => void,
  ) {}

  /** The texture, or null while loading or when the image cannot be had (it draws nothing). */
  get(sha256: string): BlobTexture | null {
    const entry = this.entries.get(sha256);
    if (!entry) {
      this.load(sha256);
      return null;
    }
    return entry.state === "ready" ? entry.texture : null;
  }

  /** Whether the image is still on its way. */
  loading(sha256: string): boolean {
    return this.entries.get(sha256)?.state === "loading";
  }

  /** Release every image but those in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const [sha, entry] of this.entries) {
      if (keep.has(sha)) continue;
      if (entry.state === "ready") entry.texture.source.destroy();
      if (entry.state !== "loading") this.entries.delete(sha);
    }
  }

  destroy(): void {
    this.destroyed = true;
    for (const entry of this.entries.values()) if (entry.state === "ready") entry.texture.source.destroy();
    this.entries.clear();
  }

  private load(sha256: string): void {
    this.entries.set(sha256, { state: "loading" });
    void this.fetchImage(sha256).then(
      (texture) => this.settle(sha256, { state: "ready", texture }),
      () => this.settle(sha256, { state: "failed" }),
    );
  }

  private settle(sha256: string, entry: Entry): void {
    if (this.destroyed) {
      if (entry.state === "ready") entry.texture.source.destroy();
      return;
    }
    this.entries.set(sha256, entry);
    this.onLoad();
  }

  private async fetchImage(sha256: string): Promise<BlobTexture> {
    const response = await fetch(this.urlOf(sha256));
    if (!response.ok) throw new Error(`blob ${sha256}: HTTP ${response.status}`);
    const bitmap = await createImageBitmap(await response.blob(), {
      premultiplyAlpha: "none",
      colorSpaceConversion: "none",
      imageOrientation: "from-image",
    });
    const source = new ImageSource({
      resource: bitmap,
      alphaMode: "no-premultiply-alpha",
      scaleMode: "nearest",
      autoGarbageCollect: false,
    });
    return { source, width: bitmap.width, height: bitmap.height };
  }
}
