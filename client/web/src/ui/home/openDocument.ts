/**
 * The editor's address for a document. A `?user=`/`?name=` identity in the current address
 * (how tests and demos pick a person) is carried over so the editor opens as the same person.
 */
export function documentPath(id: string, search: string): string {
  const params = new URLSearchParams(search);
  const keep = new URLSearchParams();
  for (const key of ["user", "name"]) {
    const value = params.get(key);
    if (value !== null) keep.set(key, value);
  }
  const query = keep.toString();
  return `/d/${encodeURIComponent(id)}${query ? `?${query}` : ""}`;
}

export function openDocument(id: string): void {
  window.location.assign(documentPath(id, window.location.search));
}
