/**
 * What an AI job reads (collab/api/ai_jobs.py): by default the composite of the visible
 * layers that are neither proposals nor masks an earlier segmentation added, or one layer
 * chosen by the user (`layer_id`). The same rule as the server's, for the picker's list and
 * its "reads" line.
 */
import type { Layer } from "../../document/types";

/** A mask an earlier segmentation added: white where its object is, never a picture. */
export function isMaskLayer(layer: Layer): boolean {
  const provenance = layer.provenance;
  return provenance !== null && provenance.kind === "segment" && provenance.output === "mask";
}

function hasPixels(layer: Layer): boolean {
  return (layer.kind === "raster" || layer.kind === "paint") && !layer.proposal;
}

/** The layers the composite is made of, bottom first. */
export function compositeLayers(layers: readonly Layer[]): Layer[] {
  return layers.filter((layer) => hasPixels(layer) && layer.visible && layer.opacity > 0 && !isMaskLayer(layer));
}

/** The layers a user may choose as the source, top first (as the layers panel lists them). */
export function choosableLayers(layers: readonly Layer[]): Layer[] {
  return layers.filter(hasPixels).reverse();
}

/** The request field for a source: `{}` for the composite, `{ layer_id }` for a layer. */
export function sourceField(source: string): { layer_id?: string } {
  return source ? { layer_id: source } : {};
}
