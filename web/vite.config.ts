import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build ships inside the Python package (server/webdist), so `pip install` alone serves the app.
// `npm run dev` proxies the API and /ws to a local `pitchey serve`.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../server/webdist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // Reproducible output: .ci/run rebuilds and compares with the shipped copy.
    reportCompressedSize: true,
  },
  server: {
    // changeOrigin stays false: the API refuses cookie writes whose Origin is not its own, and
    // rewriting Host would make every signed-in write look cross-origin.
    proxy: {
      "/api": { target: "http://127.0.0.1:8080", changeOrigin: false },
      "/ws": { target: "ws://127.0.0.1:8080", ws: true, changeOrigin: false },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
