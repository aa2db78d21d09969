/** Tooltip text for a person in the presence bar. */
export function presenceTitle(
  name: string,
  layerName: string | null,
  opts: { self?: boolean; following?: boolean } = {},
): string {
  const who = opts.self ? `${name} (you)` : name;
  const where = layerName === null ? "" : ` — on layer '${layerName}'`;
  const action = opts.self ? "" : opts.following ? " · click to stop following" : " · click to follow";
  return `${who}${where}${action}`;
}
