import { useRef } from "react";
import { IconButton } from "../common/Button";
import { ImageIcon, PlusIcon, TrashIcon } from "../common/icons";

export interface LayerActionsProps {
  canDelete: boolean;
  deleteTitle: string;
  importing: boolean;
  onAdd: () => void;
  onImport: (files: File[]) => void;
  onDelete: () => void;
}

/** The buttons under the layer list: add paint layer, import image, delete layer. */
export function LayerActions({ canDelete, deleteTitle, importing, onAdd, onImport, onDelete }: LayerActionsProps) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="flex items-center gap-0.5 border-t border-neutral-700 px-2 py-1">
      <IconButton label="Add paint layer" onClick={onAdd}>
        <PlusIcon />
      </IconButton>
      <IconButton label="Import image" disabled={importing} onClick={() => input.current?.click()}>
        <ImageIcon />
      </IconButton>
      <input
        ref={input}
        type="file"
        accept="image/png,image/jpeg,image/webp"
        multiple
        hidden
        data-testid="import-image-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = "";
          if (files.length > 0) onImport(files);
        }}
      />
      {importing ? <span className="px-1 text-[11px] text-neutral-400">Importing…</span> : null}
      <div className="flex-1" />
      <IconButton
        label="Delete layer"
        title={deleteTitle}
        disabled={!canDelete}
        onClick={onDelete}
        className="hover:text-red-400"
      >
        <TrashIcon />
      </IconButton>
    </div>
  );
}
