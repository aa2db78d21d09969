import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build holds two pages, built one after the other into dist/ (`npm run build`):
// - the app (index.html): the server (collab/asgi/web.py) serves it at /, /d/{doc_id}, ...;
// - the API docs (api-docs.html, Swagger UI over /openapi.json), served at /api-docs, built
//   with `--mode api-docs`.
// Each page is one script: the service worker (public/sw.js) caches exactly what index.html
// names, so an offline reload finds every module (no lazily fetched chunk left out), and
// Rolldown builds several inputs only with code splitting on.
const API_DOCS = "api-docs";

const page = (name: string): string =>
  decodeURIComponent(new URL(name, import.meta.url).pathname);

export default defineConfig(({ mode }) => {
  const docs = mode === API_DOCS;
  return {
    plugins: docs ? [] : [react(), tailwindcss()],
    base: "/",
    build: {
      outDir: "dist",
      // the docs build adds its page to the app's build
      emptyOutDir: !docs,
      copyPublicDir: !docs,
      assetsDir: "assets",
      sourcemap: false,
      chunkSizeWarningLimit: 4000,
      rolldownOptions: {
        input: page(docs ? "./api-docs.html" : "./index.html"),
        output: { codeSplitting: false },
      },
    },
    server: {
      proxy: {
        "/api": "http://127.0.0.1:8000",
        "/ws": { target: "ws://127.0.0.1:8000", ws: true },
        "/health": "http://127.0.0.1:8000",
        "/openapi.json": "http://127.0.0.1:8000",
      },
    },
    test: {
      environment: "node",
      include: ["src/**/*.test.ts"],
    },
  };
});
