/**
 * What the screen shows around the composite: a checkerboard under the document bounds (so
 * transparency reads as such; it is not part of the document's pixels), a soft shadow and a
 * thin border at the bounds, and the composite itself placed by the camera.
 */

import { Container, Graphics, Sprite, Texture, type TextureSource, TilingSprite } from "pixi.js";
import type { Camera } from "../document/types";

const CHECKER_CELL = 8;

function checkerTexture(): Texture {
  const canvas = new OffscreenCanvas(CHECKER_CELL * 2, CHECKER_CELL * 2);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (ctx) {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, CHECKER_CELL * 2, CHECKER_CELL * 2);
    ctx.fillStyle = "#d4d4d4";
    ctx.fillRect(0, 0, CHECKER_CELL, CHECKER_CELL);
    ctx.fillRect(CHECKER_CELL, CHECKER_CELL, CHECKER_CELL, CHECKER_CELL);
  }
  const texture = Texture.from(canvas);
  texture.source.scaleMode = "nearest";
  return texture;
}

/** The stage's content: shadow, checkerboard, document. */
export class DocumentView {
  readonly stage = new Container();
  private readonly shadow = new Graphics();
  private readonly checker: TilingSprite;
  private readonly document = new Sprite();
  private readonly textures = new Map<TextureSource, Texture>();
  private camera: Camera = { x: 0, y: 0, zoom: 1 };
  private size: [number, number] = [0, 0];
  private linearDisplay: boolean;

  constructor(linearFloatFiltering: boolean) {
    this.linearDisplay = linearFloatFiltering;
    this.checker = new TilingSprite({ texture: checkerTexture(), width: 1, height: 1 });
    this.stage.addChild(this.shadow, this.checker, this.document);
  }

  setCamera(camera: Camera): void {
    this.camera = camera;
    this.layout();
  }

  /** Show `source` (the composite) as a `width` x `height` document. */
  setDocument(source: TextureSource | null, width: number, height: number): void {
    if (this.size[0] !== width || this.size[1] !== height) {
      this.size = [width, height];
      for (const texture of this.textures.values()) texture.destroy(false);
      this.textures.clear();
    }
    if (!source) {
      this.document.visible = false;
    } else {
      let texture = this.textures.get(source);
      if (!texture) {
        texture = new Texture({ source });
        this.textures.set(source, texture);
      }
      this.document.texture = texture;
      this.document.visible = true;
    }
    this.layout();
  }

  destroy(): void {
    for (const texture of this.textures.values()) texture.destroy(false);
    this.textures.clear();
    this.checker.texture.destroy(true);
    this.stage.removeFromParent();
    this.stage.destroy({ children: true });
  }

  private layout(): void {
    const { x, y, zoom } = this.camera;
    const [width, height] = this.size;
    const screenWidth = width * zoom;
    const screenHeight = height * zoom;
    this.document.position.set(x, y);
    this.document.scale.set(zoom);
    const source = this.document.texture.source;
    // Pixels stay crisp from 100 % up; below, smooth if the GPU filters float textures.
    const mode = zoom < 1 && this.linearDisplay ? "linear" : "nearest";
    if (source.scaleMode !== mode) source.scaleMode = mode;
    this.checker.position.set(Math.round(x), Math.round(y));
    this.checker.width = Math.max(1, Math.round(screenWidth));
    this.checker.height = Math.max(1, Math.round(screenHeight));
    this.shadow.clear();
    if (width > 0 && height > 0) {
      for (let i = 1; i <= 4; i++) {
        this.shadow.rect(x - i, y - i + 2, screenWidth + 2 * i, screenHeight + 2 * i).fill({ color: 0x000000, alpha: 0.08 });
      }
      this.shadow.rect(x - 0.5, y - 0.5, screenWidth + 1, screenHeight + 1).stroke({ width: 1, color: 0xffffff, alpha: 0.12 });
    }
  }
}
