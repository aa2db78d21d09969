import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "./index.css";
import { AuthGate } from "./ui/auth/AuthGate";
import { SignInPage } from "./ui/auth/SignInPage";
import { EditorPage } from "./ui/editor/EditorPage";
import { HomePage } from "./ui/home/HomePage";

type Route = { page: "home" } | { page: "editor"; docId: string } | { page: "signin" | "register" };

/** `/d/{doc_id}` opens a document, `/signin` and `/register` are the account pages (token
 * mode); everything else is the documents list. */
function route(pathname: string): Route {
  if (/^\/(signin|register)\/?$/.test(pathname)) return { page: pathname.startsWith("/signin") ? "signin" : "register" };
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
  const page =
    where.page === "editor" ? (
      <AuthGate need="doc" docId={where.docId}>
        <EditorPage docId={where.docId} />
      </AuthGate>
    ) : where.page === "home" ? (
      <AuthGate need="account">
        <HomePage />
      </AuthGate>
    ) : (
      <SignInPage kind={where.page} />
    );
  createRoot(root).render(<StrictMode>{page}</StrictMode>);
}
