import { type KeyboardEvent, useEffect, useState } from "react";
import type { DocumentSession } from "../../document/session";
import type { Layer } from "../../document/types";
import { useEditorStore } from "../../store/editorStore";
import { ErrorText, errorMessage } from "../common/ErrorText";
import { useSessionValue } from "../common/useSessionValue";
import { LayerActions } from "./LayerActions";
import { LayerProperties } from "./LayerProperties";
import { LayerRow } from "./LayerRow";
import { insertAboveIndex, nextLayerName } from "./reorder";
import { useImageImport } from "./useImageImport";
import { useLayerDrag } from "./useLayerDrag";

type LayerEdit = Partial<Pick<Layer, "name" | "visible" | "locked" | "opacity" | "blendMode">>;

/** The layers of the open document, top first, with the active layer's properties. */
export function LayersPanel({ session }: { session: DocumentSession }) {
  const layers = useSessionValue(
    session,
    (s) => s.canvas.readLayers(),
    (c) => c.structure || c.layers.size > 0,
  );
  const meta = useSessionValue(
    session,
    (s) => s.canvas.readMeta(),
    (c) => c.meta,
  );
  const activeLayerId = useEditorStore((s) => s.activeLayerId);
  const setActiveLayer = useEditorStore((s) => s.setActiveLayer);
  const [error, setError] = useState<string | null>(null);
  const imports = useImageImport(session);

  const shown = [...layers].reverse();
  const active = layers.find((l) => l.id === activeLayerId) ?? layers[layers.length - 1] ?? null;
  const activeId = active?.id ?? null;

  useEffect(() => {
    session.presence.setLayer(activeId);
  }, [session, activeId]);

  /** Every change is one transaction of this session: this person's undo step. */
  const edit = (fn: () => void): boolean => {
    try {
      session.transact(fn);
      setError(null);
      imports.clearError();
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    }
  };

  const update = (id: string, props: LayerEdit) => edit(() => session.canvas.updateLayer(id, props));

  const select = (id: string) => {
    setActiveLayer(id);
    session.presence.setLayer(id);
  };

  const addPaintLayer = () => {
    let id = "";
    const index = insertAboveIndex(active ? layers.indexOf(active) : -1, layers.length);
    const name = nextLayerName(layers.map((l) => l.name));
    const added = edit(() => {
      id = session.canvas.addLayer(name, { kind: "paint", index });
    });
    if (added) select(id);
  };

  const deleteLayer = () => {
    if (!active) return;
    const index = layers.indexOf(active);
    const next = layers[index - 1] ?? layers[index + 1] ?? null;
    if (edit(() => session.canvas.removeLayer(active.id))) setActiveLayer(next?.id ?? null);
  };

  const drag = useLayerDrag(
    shown.map((l) => l.id),
    (id, newIndex) => edit(() => session.canvas.moveLayer(id, newIndex)),
  );

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    if (e.target instanceof HTMLInputElement) return;
    e.preventDefault();
    const row = shown.findIndex((l) => l.id === activeId);
    const target = shown[Math.max(0, Math.min(shown.length - 1, row + (e.key === "ArrowUp" ? -1 : 1)))];
    if (target) {
      select(target.id);
      e.currentTarget.querySelector<HTMLElement>(`[data-layer-id="${target.id}"]`)?.focus();
    }
  };

  const shownError = imports.error ?? error;
  return (
    <section
      aria-label="Layers"
      className="flex shrink-0 flex-col border-b border-neutral-700 bg-neutral-800 text-xs text-neutral-200"
    >
      <header className="flex items-center justify-between border-b border-neutral-700 px-3 py-2">
        <h2 className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">Layers</h2>
        <span className="text-[11px] text-neutral-500">{layers.length}</span>
      </header>
      {layers.length === 0 ? (
        <p className="px-3 py-3 text-neutral-400">No layers yet. Add a paint layer or import an image.</p>
      ) : (
        <div role="listbox" aria-label="Layer list" className="max-h-80 overflow-y-auto" onKeyDown={onKeyDown}>
          {shown.map((layer, row) => (
            <LayerRow
              key={layer.id}
              layer={layer}
              row={row}
              selected={layer.id === activeId}
              docWidth={meta.width}
              docHeight={meta.height}
              drag={drag}
              onSelect={select}
              onChange={update}
            />
          ))}
        </div>
      )}
      <LayerProperties layer={active} onChange={update} />
      {shownError ? (
        <div className="px-3 pb-1.5">
          <ErrorText error={shownError} />
        </div>
      ) : null}
      <LayerActions
        canDelete={active !== null && !active.locked}
        deleteTitle={active?.locked ? "Delete layer (unlock it first)" : "Delete layer"}
        importing={imports.importing}
        onAdd={addPaintLayer}
        onImport={(files) => {
          setError(null);
          void imports.importFiles(files);
        }}
        onDelete={deleteLayer}
      />
    </section>
  );
}
