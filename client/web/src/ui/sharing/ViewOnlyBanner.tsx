import { useEffect } from "react";
import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { useAccess } from "./useAccess";
import { EDITING_TOOLS, useViewOnly } from "./viewOnly";

/** "View only" under the top bar when the server made this session a viewer; keeps the tools
 * that change the document off (the hand tool is picked instead). */
export function ViewOnlyBanner({ session }: { session: DocumentSession }) {
	const access = useAccess(session);
	const readOnly = access?.readOnly ?? false;

	useEffect(() => {
		useViewOnly.getState().setReadOnly(readOnly);
		if (!readOnly) return;
		const leaveEditingTool = () => {
			const store = useEditorStore.getState();
			if (EDITING_TOOLS.has(store.tool)) store.setTool("pan");
		};
		leaveEditingTool();
		const unsubscribe = useEditorStore.subscribe((state, previous) => {
			if (state.tool !== previous.tool) leaveEditingTool();
		});
		return () => {
			unsubscribe();
			useViewOnly.getState().setReadOnly(false);
		};
	}, [readOnly]);

	if (!readOnly) return null;
	return (
		<div
			role="status"
			data-testid="view-only-banner"
			className="flex items-center gap-2 border-b border-sky-800 bg-sky-950 px-4 py-1.5 text-sm text-sky-100"
		>
			<span className="rounded bg-sky-700 px-1.5 py-0.5 text-xs font-semibold uppercase tracking-wide">
				View only
			</span>
			<span>
				You can look, follow others and export; editing is off
				{access?.userId.startsWith("link:")
					? " (opened from a share link)"
					: ""}
				.
			</span>
		</div>
	);
}
