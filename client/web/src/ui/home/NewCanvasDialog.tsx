import { type FormEvent, useState } from "react";
import { createDoc, type DocSummary } from "../../api/rest";
import { Button } from "../common/Button";
import { ErrorText, errorMessage } from "../common/ErrorText";
import { Modal } from "../common/Modal";
import {
  type BackgroundChoice,
  backgroundValue,
  canvasName,
  parseDimension,
  presetFor,
  SIZE_PRESETS,
} from "./canvasPresets";

const INPUT =
  "w-full rounded border border-neutral-600 bg-neutral-900 px-2 py-1 text-sm text-neutral-100 outline-none focus:border-blue-500";

export interface NewCanvasDialogProps {
  onClose: () => void;
  onCreated: (doc: DocSummary) => void;
}

/** Name, size (presets or custom 1..32768) and background of a new document. */
export function NewCanvasDialog({ onClose, onCreated }: NewCanvasDialogProps) {
  const [name, setName] = useState("Untitled");
  const [width, setWidth] = useState("1920");
  const [height, setHeight] = useState("1080");
  const [background, setBackground] = useState<BackgroundChoice>("white");
  const [color, setColor] = useState("#1f2937");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const parsedWidth = parseDimension(width, "Width");
  const parsedHeight = parseDimension(height, "Height");
  const sizeError =
    typeof parsedWidth === "object" ? parsedWidth.error : typeof parsedHeight === "object" ? parsedHeight.error : null;
  const active =
    typeof parsedWidth === "number" && typeof parsedHeight === "number" ? presetFor(parsedWidth, parsedHeight) : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (typeof parsedWidth !== "number" || typeof parsedHeight !== "number") return;
    setBusy(true);
    setError(null);
    try {
      const doc = await createDoc({
        name: canvasName(name),
        width: parsedWidth,
        height: parsedHeight,
        background: backgroundValue(background, color),
      });
      onCreated(doc);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <Modal title="New canvas" onClose={onClose} width="w-[26rem]">
      <form onSubmit={submit} className="flex flex-col gap-3">
        <label className="flex flex-col gap-1 text-xs text-neutral-400">
          Name
          <input className={INPUT} value={name} onChange={(e) => setName(e.target.value)} maxLength={1000} />
        </label>

        <fieldset className="flex flex-col gap-1.5">
          <legend className="mb-1 text-xs text-neutral-400">Size</legend>
          <div className="grid grid-cols-3 gap-1.5">
            {SIZE_PRESETS.map((preset) => (
              <button
                key={preset.label}
                type="button"
                aria-pressed={active === preset}
                onClick={() => {
                  setWidth(String(preset.width));
                  setHeight(String(preset.height));
                }}
                className={`rounded border px-1.5 py-1 text-left text-xs ${
                  active === preset
                    ? "border-blue-500 bg-blue-600/20 text-white"
                    : "border-neutral-600 bg-neutral-900 text-neutral-300 hover:border-neutral-500"
                }`}
              >
                <span className="block font-medium">{preset.label}</span>
                <span className="text-neutral-400">
                  {preset.width}×{preset.height}
                </span>
              </button>
            ))}
            <div
              className={`rounded border px-1.5 py-1 text-xs ${
                active ? "border-neutral-700 text-neutral-500" : "border-blue-500 bg-blue-600/20 text-white"
              }`}
            >
              <span className="block font-medium">Custom</span>
              <span className="text-neutral-400">1–32768 px</span>
            </div>
          </div>
          <div className="mt-1 flex items-end gap-2">
            <label className="flex flex-1 flex-col gap-1 text-xs text-neutral-400">
              Width
              <input className={INPUT} inputMode="numeric" value={width} onChange={(e) => setWidth(e.target.value)} />
            </label>
            <span className="pb-1.5 text-neutral-500">×</span>
            <label className="flex flex-1 flex-col gap-1 text-xs text-neutral-400">
              Height
              <input className={INPUT} inputMode="numeric" value={height} onChange={(e) => setHeight(e.target.value)} />
            </label>
            <span className="pb-1.5 text-xs text-neutral-500">px</span>
          </div>
          <ErrorText error={sizeError} />
        </fieldset>

        <fieldset className="flex flex-col gap-1">
          <legend className="mb-1 text-xs text-neutral-400">Background</legend>
          <div className="flex items-center gap-3 text-xs">
            {(["white", "transparent", "color"] as const).map((choice) => (
              <label key={choice} className="flex items-center gap-1.5">
                <input
                  type="radio"
                  name="background"
                  value={choice}
                  checked={background === choice}
                  onChange={() => setBackground(choice)}
                />
                {choice === "white" ? "White" : choice === "transparent" ? "Transparent" : "Colour"}
              </label>
            ))}
            <input
              type="color"
              aria-label="Background colour"
              value={color}
              onChange={(e) => {
                setColor(e.target.value);
                setBackground("color");
              }}
              className="h-6 w-8 cursor-pointer rounded border border-neutral-600 bg-neutral-900"
            />
          </div>
        </fieldset>

        <ErrorText error={error} />
        <div className="-mx-4 -mb-3 flex justify-end gap-2 border-t border-neutral-700 px-4 py-2.5">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={busy || sizeError !== null}>
            {busy ? "Creating…" : "Create"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
