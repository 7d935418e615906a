import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The producer serves the built files at /ui; `npm run dev -w @jobline/dashboard` proxies the API to port 3000. */
export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: Object.fromEntries(
      ['/v1', '/openapi.json'].map((path) => [path, process.env.JOBLINE_API ?? 'http://127.0.0.1:3000']),
    ),
  },
});
