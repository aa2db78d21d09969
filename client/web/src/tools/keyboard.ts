/**
 * Every keyboard shortcut of the editor, in one table: the key handler matches against it
 * and the shortcut sheet (`?`) lists it, so the two never disagree.
 */

export type ShortcutAction =
  | "tool.brush"
  | "tool.eraser"
  | "tool.move"
  | "tool.eyedropper"
  | "tool.pan"
  | "tool.selectRect"
  | "tool.lasso"
  | "tool.maskBrush"
  | "tool.maskEraser"
  | "brush.smaller"
  | "brush.larger"
  | "view.fit"
  | "view.actual"
  | "view.zoomIn"
  | "view.zoomOut"
  | "edit.undo"
  | "edit.redo"
  | "help.shortcuts";

/** `key`: KeyboardEvent.key (case-insensitive), or `code`: KeyboardEvent.code. */
export interface KeyBinding {
  readonly key?: string;
  readonly code?: string;
  /** Ctrl, or Cmd on a Mac; default false */
  readonly mod?: boolean;
  /** undefined: either (`?` and `+` need Shift on many layouts) */
  readonly shift?: boolean;
  /** default false */
  readonly alt?: boolean;
}

export type ShortcutGroup = "Tools" | "Brush" | "View" | "Edit" | "Help";

export interface Shortcut {
  /** null for gestures the sheet lists but the key handler does not handle (Space + drag) */
  readonly action: ShortcutAction | null;
  readonly group: ShortcutGroup;
  readonly label: string;
  /** how the sheet shows it: alternatives, each a list of keys ("Mod" = Ctrl / ⌘) */
  readonly keys: readonly (readonly string[])[];
  readonly bindings: readonly KeyBinding[];
}

export const SHORTCUTS: readonly Shortcut[] = [
  {
    action: "tool.brush",
    group: "Tools",
    label: "Brush",
    keys: [["B"]],
    bindings: [{ key: "b" }],
  },
  {
    action: "tool.eraser",
    group: "Tools",
    label: "Eraser",
    keys: [["E"]],
    bindings: [{ key: "e" }],
  },
  {
    action: "tool.move",
    group: "Tools",
    label: "Move layer",
    keys: [["V"]],
    bindings: [{ key: "v" }],
  },
  {
    action: "tool.eyedropper",
    group: "Tools",
    label: "Eyedropper",
    keys: [["I"]],
    bindings: [{ key: "i" }],
  },
  {
    action: "tool.pan",
    group: "Tools",
    label: "Hand (pan)",
    keys: [["H"]],
    bindings: [{ key: "h" }],
  },
  {
    action: "tool.selectRect",
    group: "Tools",
    label: "Rectangle select (Shift adds, Alt subtracts)",
    keys: [["M"]],
    bindings: [{ key: "m", shift: false }],
  },
  {
    action: "tool.lasso",
    group: "Tools",
    label: "Lasso select",
    keys: [["L"]],
    bindings: [{ key: "l", shift: false }],
  },
  {
    action: "tool.maskBrush",
    group: "Tools",
    label: "Mask brush",
    keys: [["Q"]],
    bindings: [{ key: "q", shift: false }],
  },
  {
    action: "tool.maskEraser",
    group: "Tools",
    label: "Mask eraser",
    keys: [["Shift", "Q"]],
    bindings: [{ key: "q", shift: true }],
  },
  {
    action: null,
    group: "Tools",
    label: "Pick a colour with the brush",
    keys: [["Alt", "click"]],
    bindings: [],
  },
  {
    action: "brush.smaller",
    group: "Brush",
    label: "Smaller brush",
    keys: [["["]],
    bindings: [{ key: "[" }],
  },
  {
    action: "brush.larger",
    group: "Brush",
    label: "Larger brush",
    keys: [["]"]],
    bindings: [{ key: "]" }],
  },
  {
    action: "view.fit",
    group: "View",
    label: "Fit the document in the view",
    keys: [
      ["Mod", "0"],
      ["Shift", "1"],
    ],
    bindings: [
      { key: "0", mod: true, shift: false },
      { code: "Digit1", shift: true },
    ],
  },
  {
    action: "view.actual",
    group: "View",
    label: "Zoom to 100 %",
    keys: [["Mod", "1"]],
    bindings: [{ key: "1", mod: true, shift: false }],
  },
  {
    action: "view.zoomIn",
    group: "View",
    label: "Zoom in",
    keys: [["+"]],
    bindings: [{ key: "+" }, { key: "=" }, { key: "+", mod: true }, { key: "=", mod: true }],
  },
  {
    action: "view.zoomOut",
    group: "View",
    label: "Zoom out",
    keys: [["-"]],
    bindings: [{ key: "-" }, { key: "_" }, { key: "-", mod: true }],
  },
  {
    action: null,
    group: "View",
    label: "Pan",
    keys: [["Space", "drag"], ["Middle-drag"], ["Scroll"]],
    bindings: [],
  },
  {
    action: null,
    group: "View",
    label: "Zoom at the pointer",
    keys: [["Mod", "scroll"], ["Pinch"]],
    bindings: [],
  },
  {
    action: "edit.undo",
    group: "Edit",
    label: "Undo your last change",
    keys: [["Mod", "Z"]],
    bindings: [{ key: "z", mod: true, shift: false }],
  },
  {
    action: "edit.redo",
    group: "Edit",
    label: "Redo",
    keys: [
      ["Mod", "Shift", "Z"],
      ["Ctrl", "Y"],
    ],
    bindings: [
      { key: "z", mod: true, shift: true },
      { key: "y", mod: true, shift: false },
    ],
  },
  {
    action: "help.shortcuts",
    group: "Help",
    label: "Keyboard shortcuts",
    keys: [["?"]],
    bindings: [{ key: "?" }],
  },
  {
    action: null,
    group: "Help",
    label: "Close a dialog or menu",
    keys: [["Esc"]],
    bindings: [],
  },
];

/** The parts of a KeyboardEvent the matcher looks at. */
export interface KeyPress {
  readonly key: string;
  readonly code: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
}

export function bindingMatches(binding: KeyBinding, press: KeyPress): boolean {
  if (binding.key !== undefined && press.key.toLowerCase() !== binding.key) return false;
  if (binding.code !== undefined && press.code !== binding.code) return false;
  if ((press.ctrlKey || press.metaKey) !== (binding.mod ?? false)) return false;
  if (press.altKey !== (binding.alt ?? false)) return false;
  if (binding.shift !== undefined && press.shiftKey !== binding.shift) return false;
  return true;
}

export function matchShortcut(press: KeyPress): ShortcutAction | null {
  for (const shortcut of SHORTCUTS) {
    if (shortcut.action && shortcut.bindings.some((binding) => bindingMatches(binding, press))) {
      return shortcut.action;
    }
  }
  return null;
}

/** The shortcut of an action as a short text for titles ("Brush (B)"). */
export function shortcutText(action: ShortcutAction, mac = false): string {
  const shortcut = SHORTCUTS.find((s) => s.action === action);
  if (!shortcut) return "";
  return shortcut.keys[0].map((key) => keyName(key, mac)).join(mac ? "" : "+");
}

export function keyName(key: string, mac: boolean): string {
  if (key === "Mod") return mac ? "⌘" : "Ctrl";
  if (mac && key === "Shift") return "⇧";
  if (mac && key === "Alt") return "⌥";
  return key;
}

interface TargetLike {
  readonly tagName?: string;
  readonly isContentEditable?: boolean;
  readonly type?: string;
}

const TEXTLESS_INPUTS = new Set(["button", "checkbox", "color", "radio", "range", "reset", "submit", "file", "image"]);

/** True while the person types into a field: shortcuts must leave those keys alone. */
export function isTypingTarget(target: unknown): boolean {
  if (target === null || typeof target !== "object") return false;
  const element = target as TargetLike;
  if (element.isContentEditable) return true;
  const tag = (element.tagName ?? "").toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !TEXTLESS_INPUTS.has((element.type ?? "text").toLowerCase());
  return false;
}

export function isMacPlatform(): boolean {
  return typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
}
