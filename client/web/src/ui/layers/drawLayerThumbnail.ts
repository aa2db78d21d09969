import type { Layer, Stroke } from "../../document/types";

/** The thumbnail's size in CSS pixels: the document's aspect ratio fitted into a box. */
export function fitThumbnail(docWidth: number, docHeight: number, boxWidth: number, boxHeight: number) {
  const w = Math.max(1, docWidth);
  const h = Math.max(1, docHeight);
  const scale = Math.min(boxWidth / w, boxHeight / h);
  return {
    width: Math.max(1, Math.round(w * scale)),
    height: Math.max(1, Math.round(h * scale)),
    scale,
  };
}

/** A cheap key that changes when the layer's drawn content may have changed. */
export function thumbnailKey(layer: Layer, docWidth: number, docHeight: number): string {
  let points = 0;
  for (const stroke of layer.strokes) points += stroke.points.length;
  const first = layer.strokes[0]?.id ?? "";
  const last = layer.strokes[layer.strokes.length - 1]?.id ?? "";
  return [
    layer.kind,
    layer.x,
    layer.y,
    layer.blob ?? "",
    layer.strokes.length,
    points,
    first,
    last,
    docWidth,
    docHeight,
  ].join("|");
}

type Ctx = Pick<
  CanvasRenderingContext2D,
  | "save"
  | "restore"
  | "clearRect"
  | "scale"
  | "translate"
  | "beginPath"
  | "moveTo"
  | "lineTo"
  | "arc"
  | "stroke"
  | "fill"
  | "drawImage"
  | "lineWidth"
  | "lineCap"
  | "lineJoin"
  | "strokeStyle"
  | "fillStyle"
  | "globalAlpha"
  | "globalCompositeOperation"
>;

function drawStroke(ctx: Ctx, stroke: Stroke, scale: number): void {
  const pts = stroke.points;
  if (pts.length < 2) return;
  ctx.globalAlpha = Math.max(0, Math.min(1, stroke.opacity / 100));
  ctx.globalCompositeOperation = stroke.tool === "eraser" ? "destination-out" : "source-over";
  // at least ~0.6 device px so thin strokes stay visible in a 40 px thumbnail
  const width = Math.max(stroke.size, 0.6 / scale);
  if (pts.length < 4) {
    ctx.beginPath();
    ctx.arc(pts[0], pts[1], width / 2, 0, Math.PI * 2);
    ctx.fillStyle = stroke.color;
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(pts[0], pts[1]);
  for (let i = 2; i + 1 < pts.length; i += 2) ctx.lineTo(pts[i], pts[i + 1]);
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = stroke.color;
  ctx.stroke();
}

/**
 * Draws `layer` (its own pixels: no opacity, blend mode or visibility) scaled by `scale`
 * from document to canvas pixels, onto a cleared canvas of `width` x `height`.
 * Paint layers: each stroke as a round-capped path (a simple approximation of the server's
 * brush). Raster layers: `image` (the blob, once loaded) at the layer's offset.
 */
export function drawLayerThumbnail(
  ctx: Ctx,
  layer: Layer,
  scale: number,
  width: number,
  height: number,
  image: CanvasImageSource | null,
): void {
  ctx.save();
  ctx.clearRect(0, 0, width, height);
  ctx.scale(scale, scale);
  ctx.translate(layer.x, layer.y);
  if (layer.kind === "raster" && image) {
    ctx.drawImage(image, 0, 0);
  } else if (layer.kind === "paint") {
    for (const stroke of layer.strokes) drawStroke(ctx, stroke, scale);
  }
  ctx.restore();
}
