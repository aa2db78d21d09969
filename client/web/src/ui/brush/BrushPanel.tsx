import { useEffect, useState } from "react";
import { type BrushSettings, useEditorStore } from "../../store/editorStore";
import { MAX_BRUSH_SIZE } from "../../tools/layerRules";
import { SliderField } from "./SliderField";

type Which = "brush" | "eraser";

/** Size, hardness and opacity, kept separately for the brush and the eraser. */
export function BrushPanel() {
  const tool = useEditorStore((s) => s.tool);
  const [which, setWhich] = useState<Which>(tool === "eraser" ? "eraser" : "brush");
  const settings = useEditorStore((s) => (which === "eraser" ? s.eraser : s.brush));
  const setBrush = useEditorStore((s) => s.setBrush);
  const setEraser = useEditorStore((s) => s.setEraser);

  // follow the tool the person picks
  useEffect(() => {
    if (tool === "brush" || tool === "eraser") setWhich(tool);
  }, [tool]);

  const title = which === "eraser" ? "Eraser" : "Brush";
  const update = (patch: Partial<BrushSettings>) => (which === "eraser" ? setEraser(patch) : setBrush(patch));

  return (
    <section aria-labelledby="brush-heading" className="border-b border-neutral-700 px-3 py-2.5">
      <div className="mb-1.5 flex items-center justify-between">
        <h2 id="brush-heading" className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">
          {title}
        </h2>
        <div role="tablist" aria-label="Settings for" className="flex rounded bg-neutral-900 p-0.5 text-[11px]">
          {(["brush", "eraser"] as const).map((option) => (
            <button
              key={option}
              type="button"
              role="tab"
              aria-selected={which === option}
              onClick={() => setWhich(option)}
              className={`rounded px-2 py-0.5 capitalize ${which === option ? "bg-neutral-700 text-white" : "text-neutral-400 hover:text-white"}`}
            >
              {option}
            </button>
          ))}
        </div>
      </div>
      <SliderField
        label="Size"
        name={`${title} size`}
        unit="px"
        min={1}
        max={200}
        inputMax={MAX_BRUSH_SIZE}
        value={settings.size}
        onChange={(size) => update({ size })}
      />
      <SliderField
        label="Hardness"
        name={`${title} hardness`}
        unit="%"
        min={0}
        max={100}
        value={Math.round(settings.hardness * 100)}
        onChange={(percent) => update({ hardness: percent / 100 })}
      />
      <SliderField
        label="Alpha"
        name={`${title} alpha`}
        unit="%"
        min={0}
        max={100}
        value={settings.opacity}
        onChange={(opacity) => update({ opacity })}
      />
    </section>
  );
}
