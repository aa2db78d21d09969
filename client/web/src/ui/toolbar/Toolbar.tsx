import { type ToolName, useEditorStore } from "../../store/editorStore";
import { EDITING_TOOLS, useViewOnly } from "../sharing/viewOnly";
import { isMacPlatform, type ShortcutAction, shortcutText } from "../../tools/keyboard";
import { ToolIcon } from "./toolIcons";

const TOOLS: readonly {
  tool: ToolName;
  label: string;
  action: ShortcutAction;
}[] = [
  { tool: "brush", label: "Brush", action: "tool.brush" },
  { tool: "eraser", label: "Eraser", action: "tool.eraser" },
  { tool: "move", label: "Move layer", action: "tool.move" },
  { tool: "eyedropper", label: "Eyedropper", action: "tool.eyedropper" },
  { tool: "pan", label: "Hand (pan)", action: "tool.pan" },
  { tool: "select-rect", label: "Rectangle select", action: "tool.selectRect" },
  { tool: "lasso", label: "Lasso select", action: "tool.lasso" },
  { tool: "mask-brush", label: "Mask brush", action: "tool.maskBrush" },
  { tool: "mask-eraser", label: "Mask eraser", action: "tool.maskEraser" },
];

/** The tools, down the left edge; the current colour under them. */
export function Toolbar() {
  const tool = useEditorStore((s) => s.tool);
  const setTool = useEditorStore((s) => s.setTool);
  const color = useEditorStore((s) => s.color);
  const readOnly = useViewOnly((s) => s.readOnly);
  const mac = isMacPlatform();
  return (
    <nav
      aria-label="Tools"
      className="flex w-11 shrink-0 flex-col items-center gap-1 border-r border-neutral-700 bg-neutral-800 py-2"
    >
      {TOOLS.map((entry) => {
        const off = readOnly && EDITING_TOOLS.has(entry.tool);
        const label = `${entry.label} (${shortcutText(entry.action, mac)})${off ? " — view only" : ""}`;
        const active = tool === entry.tool;
        return (
          <button
            key={entry.tool}
            type="button"
            aria-label={label}
            title={label}
            aria-pressed={active}
            disabled={off}
            onClick={() => setTool(entry.tool)}
            className={`flex h-8 w-8 items-center justify-center rounded transition-colors ${
              active ? "bg-blue-600 text-white" : "text-neutral-300 hover:bg-neutral-700 hover:text-white"
            } disabled:cursor-not-allowed disabled:opacity-30`}
          >
            <ToolIcon tool={entry.tool} />
          </button>
        );
      })}
      <div
        className="mt-2 h-6 w-6 rounded border border-neutral-500 shadow-inner"
        style={{ backgroundColor: color }}
        title={`Colour ${color}`}
        role="img"
        aria-label={`Current colour ${color}`}
      />
    </nav>
  );
}
