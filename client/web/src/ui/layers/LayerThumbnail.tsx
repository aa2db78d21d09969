import { useEffect, useRef, useState } from "react";
import type { Layer } from "../../document/types";
import { CHECKERBOARD_SMALL } from "../common/checkerboard";
import { loadBlobImage } from "./blobImages";
import { drawLayerThumbnail, fitThumbnail, thumbnailKey } from "./drawLayerThumbnail";

const BOX_W = 40;
const BOX_H = 30;
/** redraw a thumbnail at most this often while strokes stream in */
const MIN_INTERVAL_MS = 150;

export interface LayerThumbnailProps {
  layer: Layer;
  docWidth: number;
  docHeight: number;
}

/** A small live picture of one layer's own pixels on a checkerboard. */
export function LayerThumbnail({ layer, docWidth, docHeight }: LayerThumbnailProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const layerRef = useRef(layer);
  layerRef.current = layer;
  const lastDraw = useRef(0);
  const [image, setImage] = useState<HTMLImageElement | null>(null);
  const fit = fitThumbnail(docWidth, docHeight, BOX_W, BOX_H);
  const key = thumbnailKey(layer, docWidth, docHeight);
  const blob = layer.kind === "raster" ? layer.blob : null;

  useEffect(() => {
    setImage(null);
    if (!blob) return;
    let live = true;
    void loadBlobImage(blob).then((img) => {
      if (live) setImage(img);
    });
    return () => {
      live = false;
    };
  }, [blob]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the layer's drawn content
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const draw = () => {
      const ctx = canvas.getContext("2d");
      if (!ctx) return;
      const dpr = window.devicePixelRatio || 1;
      const width = Math.round(fit.width * dpr);
      const height = Math.round(fit.height * dpr);
      if (canvas.width !== width) canvas.width = width;
      if (canvas.height !== height) canvas.height = height;
      drawLayerThumbnail(ctx, layerRef.current, fit.scale * dpr, width, height, image);
      lastDraw.current = performance.now();
    };
    const wait = lastDraw.current + MIN_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      const frame = requestAnimationFrame(draw);
      return () => cancelAnimationFrame(frame);
    }
    const timer = window.setTimeout(draw, wait);
    return () => window.clearTimeout(timer);
  }, [key, image, fit.width, fit.height, fit.scale]);

  return (
    <span aria-hidden="true" className="flex h-[30px] w-10 shrink-0 items-center justify-center">
      <canvas
        ref={ref}
        className={`border border-neutral-600 ${CHECKERBOARD_SMALL}`}
        style={{ width: fit.width, height: fit.height }}
      />
    </span>
  );
}
