import { blobUrl } from "../../api/rest";

/** Decoded blob images for thumbnails, one per sha256, shared by every row. */
const cache = new Map<string, Promise<HTMLImageElement | null>>();

export function loadBlobImage(sha256: string): Promise<HTMLImageElement | null> {
  let entry = cache.get(sha256);
  if (!entry) {
    const image = new Image();
    image.decoding = "async";
    entry = new Promise((resolve) => {
      image.onload = () => resolve(image);
      image.onerror = () => {
        cache.delete(sha256);
        resolve(null);
      };
    });
    image.src = blobUrl(sha256);
    cache.set(sha256, entry);
  }
  return entry;
}
