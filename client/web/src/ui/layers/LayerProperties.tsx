import { useEffect, useState } from "react";
import type { BlendMode, Layer } from "../../document/types";
import { BLEND_MODES, blendModeGroups, blendModeLabel } from "./blendModes";

export interface LayerPropertiesProps {
  layer: Layer | null;
  onChange: (id: string, props: { opacity?: number; blendMode?: BlendMode }) => void;
}

const FIELD =
  "rounded border border-neutral-600 bg-neutral-900 px-1 py-0.5 text-xs text-neutral-100 outline-none focus:border-blue-500";

function clampOpacity(value: number): number {
  return Math.max(0, Math.min(100, Math.round(value)));
}

/** Opacity (slider + number) and blend mode of the active layer. */
export function LayerProperties({ layer, onChange }: LayerPropertiesProps) {
  const opacity = layer ? clampOpacity(layer.opacity) : 100;
  const [typed, setTyped] = useState(String(opacity));
  useEffect(() => setTyped(String(opacity)), [opacity]);

  const commitTyped = () => {
    const value = Number(typed);
    if (!layer || typed.trim() === "" || !Number.isFinite(value)) {
      setTyped(String(opacity));
      return;
    }
    const next = clampOpacity(value);
    setTyped(String(next));
    if (next !== opacity) onChange(layer.id, { opacity: next });
  };

  return (
    <div className="flex flex-col gap-1.5 border-t border-neutral-700 px-3 py-2 text-xs text-neutral-300">
      <label className="flex items-center gap-2">
        <span className="w-12 shrink-0 text-neutral-400">Blend</span>
        <select
          aria-label="Blend mode"
          disabled={!layer}
          value={layer?.blendMode ?? "normal"}
          onChange={(e) => {
            const mode = BLEND_MODES.find((m) => m === e.target.value);
            if (layer && mode) onChange(layer.id, { blendMode: mode });
          }}
          className={`${FIELD} min-w-0 flex-1`}
        >
          {blendModeGroups().map((group, i) => [
            i > 0 ? (
              <option key={`sep-${group[0]}`} disabled value="">
                ──────────
              </option>
            ) : null,
            ...group.map((mode) => (
              <option key={mode} value={mode}>
                {blendModeLabel(mode)}
              </option>
            )),
          ])}
        </select>
      </label>
      <div className="flex items-center gap-2">
        <span className="w-12 shrink-0 text-neutral-400">Opacity</span>
        <input
          type="range"
          aria-label="Opacity"
          min={0}
          max={100}
          step={1}
          disabled={!layer}
          value={opacity}
          onChange={(e) =>
            layer &&
            onChange(layer.id, {
              opacity: clampOpacity(Number(e.target.value)),
            })
          }
          className="min-w-0 flex-1 accent-blue-500"
        />
        <input
          type="number"
          aria-label="Percent opaque"
          min={0}
          max={100}
          disabled={!layer}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          onBlur={commitTyped}
          onKeyDown={(e) => {
            e.stopPropagation();
            if (e.key === "Enter") commitTyped();
          }}
          className={`${FIELD} w-12 text-right`}
        />
        <span className="text-neutral-500">%</span>
      </div>
    </div>
  );
}
