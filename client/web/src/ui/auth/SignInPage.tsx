import { type FormEvent, useEffect, useState } from "react";
import {
	type AuthMode,
	login,
	register,
	serverAuthMode,
} from "../../auth/authApi";
import { authManager } from "../../auth/authManager";
import { Button } from "../common/Button";
import { ErrorText, errorMessage } from "../common/ErrorText";
import { nextPath } from "./nextPath";

const FIELD =
	"w-full rounded border border-neutral-600 bg-neutral-900 px-2 py-1.5 text-sm text-neutral-100 outline-none focus:border-blue-500";

/** `/signin` and `/register` (token mode): name and password, then back to `?next=`. */
export function SignInPage({ kind }: { kind: "signin" | "register" }) {
	const [mode, setMode] = useState<AuthMode | null>(null);
	const [name, setName] = useState("");
	const [password, setPassword] = useState("");
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<string | null>(null);
	const registering = kind === "register";
	const title = registering ? "Create an account" : "Sign in";
	const other = `${registering ? "/signin" : "/register"}${location.search}`;

	useEffect(() => {
		void serverAuthMode().then(setMode);
	}, []);

	const submit = async (event: FormEvent) => {
		event.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const tokens = registering
				? await register(name.trim(), password)
				: await login(name.trim(), password);
			authManager().signIn(tokens);
			location.assign(nextPath(location.search));
		} catch (err) {
			setError(errorMessage(err));
			setBusy(false);
		}
	};

	return (
		<div className="flex h-full items-center justify-center bg-neutral-900 text-neutral-100">
			<div className="w-80 rounded-lg border border-neutral-700 bg-neutral-800 p-5 shadow-2xl">
				<p className="mb-1 text-xs font-semibold tracking-wide text-neutral-400">
					Nexus Canvas
				</p>
				<h1 className="mb-4 text-lg font-semibold">{title}</h1>
				{mode === "open" ? (
					<p className="text-sm text-neutral-300">
						This server runs in open mode: there are no accounts, anyone who can
						reach it may edit.{" "}
						<a href="/" className="text-blue-400 hover:underline">
							Go to the documents
						</a>
					</p>
				) : (
					<form
						onSubmit={submit}
						className="flex flex-col gap-3"
						aria-label={title}
					>
						<label className="flex flex-col gap-1 text-xs text-neutral-300">
							Name
							<input
								className={FIELD}
								autoComplete="username"
								required
								minLength={3}
								maxLength={40}
								pattern="[A-Za-z0-9_.\-]{3,40}"
								title="3-40 letters, digits or _ . -"
								value={name}
								onChange={(e) => setName(e.target.value)}
							/>
						</label>
						<label className="flex flex-col gap-1 text-xs text-neutral-300">
							Password
							<input
								className={FIELD}
								type="password"
								autoComplete={registering ? "new-password" : "current-password"}
								required
								value={password}
								onChange={(e) => setPassword(e.target.value)}
							/>
						</label>
						<ErrorText error={error} />
						<Button
							type="submit"
							variant="primary"
							disabled={busy || mode === null}
							className="py-1.5"
						>
							{busy ? "…" : title}
						</Button>
						<p className="text-xs text-neutral-400">
							{registering ? "Have an account? " : "New here? "}
							<a href={other} className="text-blue-400 hover:underline">
								{registering ? "Sign in" : "Create an account"}
							</a>
						</p>
					</form>
				)}
			</div>
		</div>
	);
}
