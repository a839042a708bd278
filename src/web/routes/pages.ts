/**
 * The page: `/` (or `/index.html`), `/app.js` and `/style.css` from src/web/public. Nothing else is served from disk.
 */
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { only } from '../http.ts';

const PUBLIC = fileURLToPath(new URL('../public/', import.meta.url));
const PAGES = ['/', '/index.html', '/app.js', '/style.css'];

export function pageRoutes(): Hono {
  const pages = new Hono();
  const files = serveStatic({ root: PUBLIC });
  for (const path of PAGES) {
    pages.all(
      path,
      only('GET'),
      async (c, next) => {
        // Revalidated on every load: a new version of the page is seen at once.
        c.header('Cache-Control', 'no-cache');
        await next();
      },
      files,
    );
  }
  return pages;
}
