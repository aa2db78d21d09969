import { useState } from "react";
import { ErrorText, errorMessage } from "./ErrorText";

export interface InlineRenameProps {
  initial: string;
  label: string;
  /** may reject: the error stays visible and the field stays open */
  onCommit: (name: string) => Promise<void> | void;
  onCancel: () => void;
  className?: string;
}

/** A text field that commits on Enter or blur and cancels on Escape. */
export function InlineRename({ initial, label, onCommit, onCancel, className = "" }: InlineRenameProps) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const commit = async () => {
    if (busy) return;
    const name = value.trim();
    if (name === "" || name === initial) {
      onCancel();
      return;
    }
    setBusy(true);
    try {
      await onCommit(name);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <div className="flex flex-col gap-1">
      <input
        aria-label={label}
        // biome-ignore lint/a11y/noAutofocus: the field appears because the person asked to rename
        autoFocus
        value={value}
        maxLength={1000}
        disabled={busy}
        onChange={(e) => setValue(e.target.value)}
        onFocus={(e) => e.target.select()}
        onBlur={() => void commit()}
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === "Enter") void commit();
          if (e.key === "Escape") onCancel();
        }}
        className={`w-full rounded border border-blue-500 bg-neutral-900 px-1 py-0 text-sm text-neutral-100 outline-none ${className}`}
      />
      <ErrorText error={error} />
    </div>
  );
}
