import { describe, expect, it } from "vitest";
import { isTypingTarget, type KeyPress, matchShortcut, SHORTCUTS, shortcutText } from "./keyboard";

function press(key: string, extra: Partial<KeyPress> = {}): KeyPress {
  return {
    key,
    code: "",
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    altKey: false,
    ...extra,
  };
}

describe("keyboard shortcuts", () => {
  it("matches the tool keys without modifiers only", () => {
    expect(matchShortcut(press("b"))).toBe("tool.brush");
    expect(matchShortcut(press("B", { shiftKey: true }))).toBe("tool.brush");
    expect(matchShortcut(press("e"))).toBe("tool.eraser");
    expect(matchShortcut(press("v"))).toBe("tool.move");
    expect(matchShortcut(press("i"))).toBe("tool.eyedropper");
    expect(matchShortcut(press("h"))).toBe("tool.pan");
    expect(matchShortcut(press("b", { ctrlKey: true }))).toBeNull();
    expect(matchShortcut(press("v", { metaKey: true }))).toBeNull();
    expect(matchShortcut(press("b", { altKey: true }))).toBeNull();
  });

  it("matches undo and redo with Ctrl or Cmd", () => {
    expect(matchShortcut(press("z", { ctrlKey: true }))).toBe("edit.undo");
    expect(matchShortcut(press("z", { metaKey: true }))).toBe("edit.undo");
    expect(matchShortcut(press("Z", { ctrlKey: true, shiftKey: true }))).toBe("edit.redo");
    expect(matchShortcut(press("y", { ctrlKey: true }))).toBe("edit.redo");
    expect(matchShortcut(press("z"))).toBeNull();
  });

  it("matches the view keys", () => {
    expect(matchShortcut(press("0", { ctrlKey: true }))).toBe("view.fit");
    expect(matchShortcut(press("!", { code: "Digit1", shiftKey: true }))).toBe("view.fit");
    expect(matchShortcut(press("1", { ctrlKey: true, code: "Digit1" }))).toBe("view.actual");
    expect(matchShortcut(press("+", { shiftKey: true }))).toBe("view.zoomIn");
    expect(matchShortcut(press("="))).toBe("view.zoomIn");
    expect(matchShortcut(press("-"))).toBe("view.zoomOut");
    expect(matchShortcut(press("1", { code: "Digit1" }))).toBeNull();
  });

  it("matches brush size and help keys", () => {
    expect(matchShortcut(press("["))).toBe("brush.smaller");
    expect(matchShortcut(press("]"))).toBe("brush.larger");
    expect(matchShortcut(press("?", { shiftKey: true }))).toBe("help.shortcuts");
  });

  it("every action has a label and keys, and no two actions share a binding", () => {
    const actions = SHORTCUTS.filter((s) => s.action).map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
    for (const shortcut of SHORTCUTS) {
      expect(shortcut.label.length).toBeGreaterThan(0);
      expect(shortcut.keys.length).toBeGreaterThan(0);
    }
  });

  it("writes short texts for titles", () => {
    expect(shortcutText("tool.brush")).toBe("B");
    expect(shortcutText("edit.undo")).toBe("Ctrl+Z");
    expect(shortcutText("edit.undo", true)).toBe("⌘Z");
  });

  it("knows when the person is typing", () => {
    expect(isTypingTarget({ tagName: "INPUT", type: "text" })).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT" })).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "range" })).toBe(false);
    expect(isTypingTarget({ tagName: "INPUT", type: "number" })).toBe(true);
    expect(isTypingTarget({ tagName: "TEXTAREA" })).toBe(true);
    expect(isTypingTarget({ tagName: "DIV", isContentEditable: true })).toBe(true);
    expect(isTypingTarget({ tagName: "BUTTON" })).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
});
