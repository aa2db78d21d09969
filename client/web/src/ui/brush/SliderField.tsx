import { useId } from "react";

export interface SliderFieldProps {
  label: string;
  /** the accessible name of the slider ("Brush size"); the visible label is `label` */
  name: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  unit: string;
  /** the numeric field may allow more than the slider */
  inputMax?: number;
  onChange: (value: number) => void;
}

/** A labelled range slider with a numeric field beside it. */
export function SliderField({ label, name, value, min, max, step = 1, unit, inputMax, onChange }: SliderFieldProps) {
  const id = useId();
  const highest = inputMax ?? max;
  const set = (raw: string) => {
    const parsed = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(parsed)) return;
    onChange(Math.min(highest, Math.max(min, parsed)));
  };
  return (
    <div className="flex items-center gap-2 py-0.5">
      <label htmlFor={id} className="w-16 shrink-0 text-xs text-neutral-300">
        {label}
      </label>
      <input
        id={id}
        type="range"
        aria-label={name}
        min={min}
        max={max}
        step={step}
        value={Math.min(max, value)}
        onChange={(e) => set(e.target.value)}
        className="min-w-0 flex-1 accent-blue-500"
      />
      <input
        type="number"
        aria-label={`${name} (${unit})`}
        min={min}
        max={highest}
        step={step}
        value={Math.round(value * 100) / 100}
        onChange={(e) => set(e.target.value)}
        className="w-14 rounded border border-neutral-600 bg-neutral-900 px-1 py-0.5 text-right text-xs text-neutral-100 outline-none focus:border-blue-500"
      />
      <span className="w-4 text-[11px] text-neutral-500">{unit}</span>
    </div>
  );
}
