import { useMaskStore } from "../../store/maskStore";
import { type ToolName, useEditorStore } from "../../store/editorStore";
import { SliderField } from "../brush/SliderField";
import { Button } from "../common/Button";

const SELECTION_TOOLS: readonly ToolName[] = ["select-rect", "lasso", "mask-brush", "mask-eraser"];

/** The selection (the AI fill mask): mask brush size and hardness, invert, clear, feather. */
export function SelectionPanel() {
  const tool = useEditorStore((s) => s.tool);
  const selected = useMaskStore((s) => s.selected);
  const brush = useMaskStore((s) => s.brush);
  const feather = useMaskStore((s) => s.feather);
  const setBrush = useMaskStore((s) => s.setBrush);
  const setFeather = useMaskStore((s) => s.setFeather);
  const engine = () => useMaskStore.getState().engine;
  const brushTool = tool === "mask-brush" || tool === "mask-eraser";
  return (
    <section aria-labelledby="selection-heading" className="border-b border-neutral-700 px-3 py-2.5">
      <div className="mb-1 flex items-center justify-between">
        <h2 id="selection-heading" className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">
          Selection
        </h2>
        <span data-testid="selection-size" className="text-[11px] text-neutral-500 tabular-nums">
          {selected > 0 ? `${selected.toLocaleString()} px` : "none"}
        </span>
      </div>
      {!SELECTION_TOOLS.includes(tool) && selected === 0 ? (
        <p className="mb-1 text-[11px] text-neutral-500">
          Rectangle (M), lasso (L) or mask brush (Q) mark the area for a generative fill. Shift adds, Alt subtracts.
        </p>
      ) : null}
      {brushTool ? (
        <>
          <SliderField label="Size" name="Mask brush size" unit="px" min={1} max={300} value={brush.size} onChange={(size) => setBrush({ size })} />
          <SliderField
            label="Hardness"
            name="Mask brush hardness"
            unit="%"
            min={0}
            max={100}
            value={Math.round(brush.hardness * 100)}
            onChange={(percent) => setBrush({ hardness: percent / 100 })}
          />
        </>
      ) : null}
      <div className="mt-1 flex flex-wrap gap-1">
        <Button onClick={() => engine()?.selectAll()}>All</Button>
        <Button onClick={() => engine()?.invert()}>Invert</Button>
        <Button onClick={() => engine()?.clear()} disabled={selected === 0}>
          Clear
        </Button>
      </div>
      <div className="mt-1 flex items-center gap-1">
        <div className="min-w-0 flex-1">
          <SliderField label="Feather" name="Feather radius" unit="px" min={1} max={64} value={feather} onChange={setFeather} />
        </div>
        <Button onClick={() => engine()?.feather(feather)} disabled={selected === 0}>
          Apply
        </Button>
      </div>
    </section>
  );
}
