import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./index.css";
import { EditorPage } from "./ui/editor/EditorPage";
import { HomePage } from "./ui/home/HomePage";

/** `/d/{doc_id}` opens a document; everything else is the documents list. */
function route(pathname: string): { page: "home" } | { page: "editor"; docId: string } {
  const match = /^\/d\/([^/]+)\/?$/.exec(pathname);
  return match ? { page: "editor", docId: decodeURIComponent(match[1]) } : { page: "home" };
}

// The service worker keeps the app shell so that a reload while offline still opens the editor.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js").catch(() => {
    // Offline reloads need it; everything else works without it.
  });
}

const root = document.getElementById("root");
if (root) {
  const where = route(window.location.pathname);
  createRoot(root).render(
    <StrictMode>{where.page === "editor" ? <EditorPage docId={where.docId} /> : <HomePage />}</StrictMode>,
  );
}
