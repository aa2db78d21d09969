// Builds the parity page alone: npx vite build --config src/render/dev/vite.config.ts --outDir <dir>
import { defineConfig } from "vite";

export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  base: "/",
  logLevel: "warn",
  build: { emptyOutDir: true, assetsDir: "assets", sourcemap: false, chunkSizeWarningLimit: 4000 },
});
