import { useEffect, useRef } from "react";
import { useEditorStore } from "../../store/editorStore";
import { isTypingTarget, matchShortcut, type ShortcutAction } from "../../tools/keyboard";

export type ShortcutHandlers = Record<ShortcutAction, () => void>;

/**
 * The editor's keyboard shortcuts (tools/keyboard.ts) on the window. Nothing fires while the
 * person types in a field, or while a dialog is open (except `?`, which closes the sheet).
 */
export function useShortcuts(handlers: ShortcutHandlers): void {
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing || isTypingTarget(event.target)) return;
      const action = matchShortcut(event);
      if (!action) return;
      const dialogOpen = useEditorStore.getState().shortcutsOpen || document.querySelector("dialog[open]") !== null;
      if (dialogOpen && action !== "help.shortcuts") return;
      event.preventDefault();
      latest.current[action]();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
