import { useCallback, useEffect, useRef, useState } from "react";
import { importImageLayer } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { errorMessage } from "../common/ErrorText";
import { imageFilesFromClipboard, layerNameForFile } from "./importFiles";

export interface ImageImport {
  /** uploads each file as a new layer on top (the server adds it), selecting the last one */
  importFiles: (files: readonly File[]) => Promise<void>;
  importing: boolean;
  /** the server's message for the last failed upload, or null */
  error: string | null;
  clearError: () => void;
}

function hasFiles(event: DragEvent): boolean {
  return event.dataTransfer?.types.includes("Files") ?? false;
}

/**
 * Image import: the file picker (through `importFiles`), files dropped anywhere on the window
 * and images pasted (Ctrl/Cmd+V). Mount once per editor (LayersPanel does).
 */
export function useImageImport(session: DocumentSession): ImageImport {
  const [importing, setImporting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const importFiles = useCallback(async (files: readonly File[]) => {
    if (files.length === 0) return;
    setImporting(true);
    setError(null);
    try {
      for (const file of files) {
        const { id } = await importImageLayer(sessionRef.current.docId, file, layerNameForFile(file));
        useEditorStore.getState().setActiveLayer(id);
      }
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setImporting(false);
    }
  }, []);

  useEffect(() => {
    const onDragOver = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    };
    const onDrop = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      void importFiles(Array.from(event.dataTransfer?.files ?? []));
    };
    const onPaste = (event: ClipboardEvent) => {
      const files = imageFilesFromClipboard(event.clipboardData);
      if (files.length === 0) return;
      event.preventDefault();
      void importFiles(files);
    };
    window.addEventListener("dragover", onDragOver);
    window.addEventListener("drop", onDrop);
    window.addEventListener("paste", onPaste);
    return () => {
      window.removeEventListener("dragover", onDragOver);
      window.removeEventListener("drop", onDrop);
      window.removeEventListener("paste", onPaste);
    };
  }, [importFiles]);

  return {
    importFiles,
    importing,
    error,
    clearError: useCallback(() => setError(null), []),
  };
}
