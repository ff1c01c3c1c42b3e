import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Root is web/; the server serves ../dist/web with an SPA fallback (src/http/server.ts).
// In development `npx vite` (from web/) proxies /api to a locally running `warden serve`.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    sourcemap: true,
    // The server's CSP forbids inline scripts; keep Vite's module preload polyfill out of index.html.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/api": { target: "https://127.0.0.1:8443", secure: false, changeOrigin: false },
    },
  },
});
