import { useState } from "react";
import type { Layer } from "../../document/types";
import { IconButton } from "../common/Button";
import { EyeIcon, EyeOffIcon, LockIcon, UnlockIcon } from "../common/icons";
import { InlineRename } from "../common/InlineRename";
import { ProposalBadge } from "../proposals/ProposalBadge";
import { blendModeLabel } from "./blendModes";
import { LayerThumbnail } from "./LayerThumbnail";
import type { LayerDrag } from "./useLayerDrag";

export interface LayerRowProps {
  layer: Layer;
  row: number;
  selected: boolean;
  docWidth: number;
  docHeight: number;
  drag: LayerDrag;
  onSelect: (id: string) => void;
  onChange: (id: string, props: { name?: string; visible?: boolean; locked?: boolean }) => void;
}

/** One layer in the list: eye, thumbnail, name (double-click renames), lock. */
export function LayerRow({ layer, row, selected, docWidth, docHeight, drag, onSelect, onChange }: LayerRowProps) {
  const [renaming, setRenaming] = useState(false);
  const name = layer.name || "Untitled";
  const indicator = drag.indicator(row);
  const details = [
    layer.kind === "raster" ? "image" : layer.kind,
    layer.blendMode !== "normal" ? blendModeLabel(layer.blendMode) : null,
    layer.opacity < 100 ? `${Math.round(layer.opacity)}%` : null,
  ].filter(Boolean);

  return (
    <div
      role="option"
      aria-selected={selected}
      aria-label={name}
      tabIndex={selected ? 0 : -1}
      data-layer-id={layer.id}
      {...drag.rowProps(row, layer.id)}
      onClick={() => onSelect(layer.id)}
      className={`relative flex h-9 cursor-default select-none items-center gap-1.5 border-b border-neutral-700/60 px-1.5 text-xs ${
        selected ? "bg-blue-600/30 text-white" : "text-neutral-200 hover:bg-neutral-700/50"
      } ${drag.draggingId === layer.id ? "opacity-40" : ""}`}
    >
      {indicator === "above" ? (
        <span className="pointer-events-none absolute inset-x-0 -top-px h-0.5 bg-blue-400" />
      ) : null}
      {indicator === "below" ? (
        <span className="pointer-events-none absolute inset-x-0 -bottom-px h-0.5 bg-blue-400" />
      ) : null}
      <IconButton
        label={`${layer.visible ? "Hide" : "Show"} layer '${name}'`}
        onClick={(e) => {
          e.stopPropagation();
          onChange(layer.id, { visible: !layer.visible });
        }}
        className={layer.visible ? "" : "text-neutral-500"}
      >
        {layer.visible ? <EyeIcon /> : <EyeOffIcon />}
      </IconButton>
      <LayerThumbnail layer={layer} docWidth={docWidth} docHeight={docHeight} />
      <div className={`min-w-0 flex-1 ${layer.visible ? "" : "opacity-50"}`}>
        {renaming ? (
          <InlineRename
            initial={layer.name}
            label="Layer name"
            className="text-xs"
            onCommit={(value) => {
              onChange(layer.id, { name: value });
              setRenaming(false);
            }}
            onCancel={() => setRenaming(false)}
          />
        ) : (
          <div onDoubleClick={() => setRenaming(true)} title="Double-click to rename">
            <div className="flex items-center gap-1">
              <span className="truncate leading-tight">{name}</span>
              <ProposalBadge layer={layer} />
            </div>
            <div className="truncate text-[10px] leading-tight text-neutral-400">{details.join(" · ")}</div>
          </div>
        )}
      </div>
      <IconButton
        label={`${layer.locked ? "Unlock" : "Lock"} layer '${name}'`}
        onClick={(e) => {
          e.stopPropagation();
          onChange(layer.id, { locked: !layer.locked });
        }}
        className={layer.locked ? "text-amber-400" : "opacity-40 hover:opacity-100"}
      >
        {layer.locked ? <LockIcon /> : <UnlockIcon />}
      </IconButton>
    </div>
  );
}
