/**
 * View-only mode: the session's role cannot edit (a viewer). The editor's tools read it here
 * (Toolbar, pointer routing) without holding the session; ViewOnlyBanner keeps it in step with
 * the session's hello messages.
 */
import { create } from "zustand";
import type { ToolName } from "../../store/editorStore";

export interface ViewOnlyState {
	readOnly: boolean;
	setReadOnly(readOnly: boolean): void;
}

export const useViewOnly = create<ViewOnlyState>((set) => ({
	readOnly: false,
	setReadOnly: (readOnly) => set({ readOnly }),
}));

/** Tools that change the document (selection tools only change this page's mask). */
export const EDITING_TOOLS: ReadonlySet<ToolName> = new Set<ToolName>([
	"brush",
	"eraser",
	"move",
]);
