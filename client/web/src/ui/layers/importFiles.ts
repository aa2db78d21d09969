/** The layer name for an imported file: its name without the extension, or "Pasted image". */
export function layerNameForFile(file: { name: string }): string {
  const base = file.name.replace(/\.[A-Za-z0-9]{1,5}$/, "").trim();
  return base === "" || base === "image" ? "Pasted image" : base;
}

/** The image files of a paste (clipboard items of kind file with an image/* type). */
export function imageFilesFromClipboard(data: DataTransfer | null): File[] {
  if (!data) return [];
  const files: File[] = [];
  for (const item of Array.from(data.items)) {
    if (item.kind !== "file" || !item.type.startsWith("image/")) continue;
    const file = item.getAsFile();
    if (file) files.push(file);
  }
  return files;
}
