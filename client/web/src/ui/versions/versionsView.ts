import type { VersionSummary } from "../../api/rest";

/**
 * Pure helpers of the versions panel: what a version is called, the order of the list, and
 * when the list is worth fetching again.
 */

/** A named version's name; an automatic one is "Auto-save #id". */
export function versionTitle(version: VersionSummary): string {
  return version.kind === "named" && version.label ? version.label : `Auto-save #${version.id}`;
}

/** Newest first (the server's order, kept whatever it sends), named before automatic on a tie. */
export function sortVersions(versions: readonly VersionSummary[]): VersionSummary[] {
  return [...versions].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
}

export type VersionFilter = "all" | "named";

export function filterVersions(versions: readonly VersionSummary[], filter: VersionFilter): VersionSummary[] {
  return filter === "named" ? versions.filter((v) => v.kind === "named") : [...versions];
}

/** The same list (ids, labels, kinds): a refetch that changed nothing keeps the old array. */
export function sameVersions(a: readonly VersionSummary[], b: readonly VersionSummary[]): boolean {
  return a.length === b.length && a.every((v, i) => v.id === b[i]?.id && v.label === b[i]?.label && v.kind === b[i]?.kind);
}

/** The server's limit on a version's name (collab/api/versions.py). */
export const MAX_VERSION_NAME = 200;

/** Why `name` cannot name a version, or null when it can. */
export function versionNameProblem(name: string): string | null {
  if (!name.trim()) return "Give the version a name.";
  if (name.length > MAX_VERSION_NAME) return `At most ${MAX_VERSION_NAME} characters (this is ${name.length}).`;
  return null;
}
