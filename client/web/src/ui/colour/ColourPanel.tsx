import { useEffect, useState } from "react";
import { useEditorStore } from "../../store/editorStore";
import { parseHexColour } from "./hex";

/** The brush colour: the native picker, a hex field and the recent colours. */
export function ColourPanel() {
  const color = useEditorStore((s) => s.color);
  const recent = useEditorStore((s) => s.recentColors);
  const setColor = useEditorStore((s) => s.setColor);
  const [text, setText] = useState(color);
  const [invalid, setInvalid] = useState(false);

  useEffect(() => {
    setText(color);
    setInvalid(false);
  }, [color]);

  const commit = () => {
    const parsed = parseHexColour(text);
    if (parsed) {
      setColor(parsed);
      setText(parsed);
      setInvalid(false);
    } else {
      setInvalid(true);
    }
  };

  return (
    <section aria-labelledby="colour-heading" className="border-b border-neutral-700 px-3 py-2.5">
      <h2 id="colour-heading" className="mb-2 text-xs font-semibold tracking-wide text-neutral-400 uppercase">
        Colour
      </h2>
      <div className="flex items-center gap-2">
        <input
          type="color"
          aria-label="Pick a colour"
          title="Pick a colour"
          value={color}
          onChange={(e) => setColor(e.target.value)}
          className="h-8 w-10 cursor-pointer rounded border border-neutral-600 bg-transparent p-0.5"
        />
        <div className="flex min-w-0 flex-1 flex-col">
          <input
            type="text"
            aria-label="Hex colour"
            aria-invalid={invalid}
            spellCheck={false}
            maxLength={7}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              if (invalid) setInvalid(parseHexColour(e.target.value) === null);
            }}
            onBlur={commit}
            onKeyDown={(e) => {
              if (e.key === "Enter") commit();
              if (e.key === "Escape") {
                setText(color);
                setInvalid(false);
              }
            }}
            className={`w-full rounded border bg-neutral-900 px-2 py-1 font-mono text-xs text-neutral-100 outline-none focus:border-blue-500 ${
              invalid ? "border-red-500" : "border-neutral-600"
            }`}
          />
          {invalid ? <span className="mt-0.5 text-[11px] text-red-400">Use #rrggbb, e.g. #1f6feb</span> : null}
        </div>
      </div>
      {recent.length > 0 ? (
        <fieldset className="mt-2 flex flex-wrap gap-1">
          <legend className="sr-only">Recent colours</legend>
          {recent.map((swatch) => (
            <button
              key={swatch}
              type="button"
              aria-label={`Use colour ${swatch}`}
              title={swatch}
              onClick={() => setColor(swatch)}
              className={`h-5 w-5 rounded-sm border ${swatch === color ? "border-white" : "border-neutral-600"} hover:scale-110`}
              style={{ backgroundColor: swatch }}
            />
          ))}
        </fieldset>
      ) : (
        <p className="mt-2 text-[11px] text-neutral-500">Colours you paint with appear here.</p>
      )}
    </section>
  );
}
