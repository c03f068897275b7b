import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by the API at /console/ (api/console.ts); `npm run build:console` writes console/dist.
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    host: '127.0.0.1',
    // `npx vite console` during development: the API runs on :3000.
    proxy: { '/v1': 'http://127.0.0.1:3000' },
  },
});
