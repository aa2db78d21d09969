import { type DragEvent, useState } from "react";
import { dropToMoveIndex, gapForPointer } from "./reorder";

const LAYER_TYPE = "application/x-nexus-layer";

export interface LayerDrag {
  /** props for the row at display position `row` whose layer is `id` */
  rowProps(
    row: number,
    id: string,
  ): {
    draggable: boolean;
    onDragStart: (e: DragEvent<HTMLElement>) => void;
    onDragOver: (e: DragEvent<HTMLElement>) => void;
    onDrop: (e: DragEvent<HTMLElement>) => void;
    onDragEnd: () => void;
  };
  /** where to draw the drop line for a row */
  indicator(row: number): "above" | "below" | null;
  draggingId: string | null;
}

/**
 * HTML5 drag and drop of layer rows. `ids` are the layer ids in display (top-first) order;
 * `onMove(id, newIndex)` receives the bottom-first index for CanvasDoc.moveLayer.
 */
export function useLayerDrag(ids: readonly string[], onMove: (id: string, newIndex: number) => void): LayerDrag {
  const [draggingId, setDraggingId] = useState<string | null>(null);
  const [gap, setGap] = useState<number | null>(null);
  const count = ids.length;

  const clear = () => {
    setDraggingId(null);
    setGap(null);
  };

  const moveFor = (targetGap: number): number | null => {
    const from = draggingId === null ? -1 : ids.indexOf(draggingId);
    return from < 0 ? null : dropToMoveIndex(from, targetGap, count);
  };

  return {
    draggingId,
    rowProps: (row, id) => ({
      draggable: true,
      onDragStart: (e) => {
        e.dataTransfer.setData(LAYER_TYPE, id);
        e.dataTransfer.effectAllowed = "move";
        setDraggingId(id);
      },
      onDragOver: (e) => {
        if (draggingId === null || !e.dataTransfer.types.includes(LAYER_TYPE)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "move";
        const rect = e.currentTarget.getBoundingClientRect();
        setGap(gapForPointer(row, e.clientY - rect.top, rect.height));
      },
      onDrop: (e) => {
        if (draggingId === null || !e.dataTransfer.types.includes(LAYER_TYPE)) return;
        e.preventDefault();
        e.stopPropagation();
        const rect = e.currentTarget.getBoundingClientRect();
        const newIndex = moveFor(gapForPointer(row, e.clientY - rect.top, rect.height));
        const id = draggingId;
        clear();
        if (newIndex !== null) onMove(id, newIndex);
      },
      onDragEnd: clear,
    }),
    indicator: (row) => {
      if (gap === null || moveFor(gap) === null) return null;
      if (gap === row) return "above";
      if (gap === count && row === count - 1) return "below";
      return null;
    },
  };
}
