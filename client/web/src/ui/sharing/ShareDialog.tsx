import { Button } from "../common/Button";
import { Modal } from "../common/Modal";
import { LinksSection } from "./LinksSection";
import { MembersSection } from "./MembersSection";

/** The owner's sharing: links (role, expiry, copy, revoke) and people by name. */
export function ShareDialog({
	docId,
	onClose,
}: {
	docId: string;
	onClose: () => void;
}) {
	return (
		<Modal
			title="Share"
			onClose={onClose}
			width="w-[34rem]"
			footer={<Button onClick={onClose}>Done</Button>}
		>
			<div className="flex flex-col gap-4">
				<LinksSection docId={docId} />
				<div className="h-px bg-neutral-700" />
				<MembersSection docId={docId} />
			</div>
		</Modal>
	);
}
