// Builds the dashboard into web/dist, which the server serves at `/` (src/server/static.ts).
// `npm run build:web` runs `vite build web`, so paths here are relative to web/.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The dashboard is served by Slipway itself: one origin, no CDN, modern browsers.
    target: "es2022",
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npx vite web` for development: the API comes from a local `npm start`.
    proxy: { "/api": "http://127.0.0.1:7300" },
  },
});
