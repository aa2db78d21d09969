/** An error as the server wrote it, or nothing. */
export function ErrorText({ error, className = "" }: { error: string | null; className?: string }) {
  if (!error) return null;
  return (
    <p
      role="alert"
      className={`rounded border border-red-800 bg-red-950/60 px-2 py-1 text-xs text-red-200 ${className}`}
    >
      {error}
    </p>
  );
}

/** The message of whatever was thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
