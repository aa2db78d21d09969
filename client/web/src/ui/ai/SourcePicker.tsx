import { useId } from "react";
import type { DocumentSession } from "../../document/session";
import { useSessionValue } from "../common/useSessionValue";
import { choosableLayers, compositeLayers, isMaskLayer } from "./source";

/**
 * Which pixels the AI tools read: "Composite" (the visible layers, masks and proposals left
 * out) or one layer. `source` is "" for the composite, else the layer's id; a layer that goes
 * away falls back to the composite.
 */
export function SourcePicker({ session, source, onChange }: { session: DocumentSession; source: string; onChange: (source: string) => void }) {
  const id = useId();
  const layers = useSessionValue(session, (s) => s.canvas.readLayers());
  const choices = choosableLayers(layers);
  const chosen = choices.find((layer) => layer.id === source) ?? null;
  const composite = compositeLayers(layers);
  const reads = chosen ? [chosen] : composite;
  const names = reads.map((layer) => layer.name || "(unnamed)").join(", ");
  return (
    <div className="mb-1.5 flex flex-col gap-0.5" data-testid="ai-source">
      <div className="flex items-center gap-2">
        <label htmlFor={id} className="shrink-0 text-[11px] text-neutral-400">
          Source
        </label>
        <select
          id={id}
          value={chosen ? chosen.id : ""}
          onChange={(event) => onChange(event.target.value)}
          className="min-w-0 flex-1 rounded border border-neutral-600 bg-neutral-900 px-1 py-0.5 text-xs text-neutral-100 outline-none focus:border-blue-500"
        >
          <option value="">Composite</option>
          {choices.map((layer) => (
            <option key={layer.id} value={layer.id}>
              {`${layer.name || "(unnamed)"}${isMaskLayer(layer) ? " (mask)" : ""}`}
            </option>
          ))}
        </select>
      </div>
      <p data-testid="ai-source-reads" className="truncate text-[10px] text-neutral-500" title={names}>
        Reads: {names || "nothing yet (no visible layer)"}
      </p>
    </div>
  );
}
