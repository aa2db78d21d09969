import { type ReactNode, useId } from "react";

const INPUT =
  "w-full min-w-0 rounded border bg-neutral-900 px-1.5 py-1 text-xs text-neutral-100 outline-none focus:border-blue-500";

/** A labelled text field with its error (the check's or the server's words) under it. */
export function TextField({
  label,
  value,
  onChange,
  error,
  placeholder,
  multiline = false,
  hint,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  placeholder?: string;
  multiline?: boolean;
  hint?: string;
}) {
  const id = useId();
  const border = error ? "border-red-500" : "border-neutral-600";
  return (
    <div className="flex flex-col gap-0.5">
      <label htmlFor={id} className="text-[11px] text-neutral-400">
        {label}
        {hint ? <span className="ml-1 text-neutral-500">({hint})</span> : null}
      </label>
      {multiline ? (
        <textarea
          id={id}
          rows={2}
          value={value}
          placeholder={placeholder}
          aria-invalid={Boolean(error)}
          onChange={(e) => onChange(e.target.value)}
          className={`${INPUT} ${border} resize-y`}
        />
      ) : (
        <input
          id={id}
          type="text"
          inputMode="decimal"
          value={value}
          placeholder={placeholder}
          aria-invalid={Boolean(error)}
          onChange={(e) => onChange(e.target.value)}
          className={`${INPUT} ${border}`}
        />
      )}
      {error ? <span className="text-[11px] text-red-300">{error}</span> : null}
    </div>
  );
}

/** A small segmented choice ("Random | Fixed"). */
export function Choice<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
}) {
  return (
    <fieldset aria-label={label} className="m-0 flex min-w-0 rounded border-0 bg-neutral-900 p-0.5 text-[11px]">
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          aria-pressed={value === option.value}
          onClick={() => onChange(option.value)}
          className={`flex-1 rounded px-2 py-0.5 whitespace-nowrap ${value === option.value ? "bg-neutral-700 text-white" : "text-neutral-400 hover:text-white"}`}
        >
          {option.label}
        </button>
      ))}
    </fieldset>
  );
}

export function Row({ children }: { children: ReactNode }) {
  return <div className="grid grid-cols-2 gap-2">{children}</div>;
}
