import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The build lands in the Python package so the server (and the wheel) ship it.
const outDir = fileURLToPath(new URL("../drago/server/ui_dist", import.meta.url));

export default defineConfig({
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 900,
  },
  server: {
    // `npm run dev` talks to a local drago server.
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
});
