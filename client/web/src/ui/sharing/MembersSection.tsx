import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Button } from "../common/Button";
import { ErrorText, errorMessage } from "../common/ErrorText";
import {
	listMembers,
	type Members,
	removeMember,
	type ShareRole,
	setMember,
} from "./sharingApi";

const SELECT =
	"rounded border border-neutral-600 bg-neutral-900 px-1.5 py-1 text-xs text-neutral-100";

/** People with access by name: the owner, members with their roles; add, change, remove. */
export function MembersSection({ docId }: { docId: string }) {
	const [members, setMembers] = useState<Members | null>(null);
	const [name, setName] = useState("");
	const [role, setRole] = useState<ShareRole>("editor");
	const [error, setError] = useState<string | null>(null);

	const reload = useCallback(async () => {
		try {
			setMembers(await listMembers(docId));
		} catch (err) {
			setError(errorMessage(err));
		}
	}, [docId]);

	useEffect(() => {
		void reload();
	}, [reload]);

	const act = async (action: () => Promise<void>) => {
		setError(null);
		try {
			await action();
			await reload();
		} catch (err) {
			setError(errorMessage(err));
		}
	};

	const add = (event: FormEvent) => {
		event.preventDefault();
		const who = name.trim();
		if (!who) return;
		void act(async () => {
			await setMember(docId, who, role);
			setName("");
		});
	};

	return (
		<section aria-label="People" className="flex flex-col gap-2">
			<h3 className="text-xs font-semibold uppercase tracking-wide text-neutral-400">
				People
			</h3>
			<ul
				className="flex max-h-40 flex-col gap-1 overflow-y-auto"
				aria-label="Members"
			>
				{members?.owner ? (
					<li className="flex items-center gap-2 px-2 py-1 text-xs">
						<span className="min-w-0 flex-1 truncate">
							{members.owner.name}
						</span>
						<span className="text-neutral-400">Owner</span>
					</li>
				) : null}
				{members?.members.map((member) => (
					<li
						key={member.id}
						data-testid="member-row"
						className="flex items-center gap-2 rounded bg-neutral-900/60 px-2 py-1 text-xs"
					>
						<span className="min-w-0 flex-1 truncate" title={member.id}>
							{member.name}
						</span>
						<select
							aria-label={`Role of ${member.name}`}
							className={SELECT}
							value={member.role}
							onChange={(e) =>
								void act(() =>
									setMember(docId, member.name, e.target.value as ShareRole),
								)
							}
						>
							<option value="editor">Editor</option>
							<option value="viewer">Viewer</option>
						</select>
						<Button
							variant="ghost"
							aria-label={`Remove ${member.name}`}
							onClick={() => void act(() => removeMember(docId, member.id))}
						>
							Remove
						</Button>
					</li>
				))}
			</ul>
			<form onSubmit={add} className="flex items-center gap-1">
				<input
					aria-label="Account name"
					placeholder="Account name"
					value={name}
					onChange={(e) => setName(e.target.value)}
					className="min-w-0 flex-1 rounded border border-neutral-600 bg-neutral-900 px-1.5 py-1 text-xs text-neutral-100"
				/>
				<select
					aria-label="New member role"
					className={SELECT}
					value={role}
					onChange={(e) => setRole(e.target.value as ShareRole)}
				>
					<option value="editor">Editor</option>
					<option value="viewer">Viewer</option>
				</select>
				<Button type="submit">Add</Button>
			</form>
			<ErrorText error={error} />
		</section>
	);
}
