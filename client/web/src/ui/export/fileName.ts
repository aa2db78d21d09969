/** A download file name from the document's name: no path or reserved characters, never empty. */
export function exportFileName(docName: string, extension: string): string {
  const printable = [...docName].map((c) => (c.charCodeAt(0) < 32 ? " " : c)).join("");
  const cleaned = printable
    .replace(/[\\/:*?"<>|]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^\.+/, "")
    .slice(0, 120)
    .trim();
  return `${cleaned || "canvas"}.${extension}`;
}
