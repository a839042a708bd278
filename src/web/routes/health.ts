/**
 * `GET /api/health`: open to all, token or not, for a probe to tell whether the server and its database answer, and
 * for the page to know whether the daemon's routes are there (asking them on `ventas serve` would be a 404).
 */
import { Hono } from 'hono';
import { ping } from '../../db/index.ts';
import type { Db } from '../../db/types.ts';
import { only } from '../http.ts';
import { noQuery, valid } from '../params.ts';

export function healthRoutes(db: Db, daemon: boolean): Hono {
  return new Hono().all('/health', only('GET'), valid('query', noQuery), async (c) => {
    try {
      await ping(db);
    } catch (error) {
      return c.json(
        {
          status: 'error',
          database: db.kind,
          daemon,
          error: `la base de datos no responde: ${(error as Error).message}`,
        },
        503,
      );
    }
    return c.json({ status: 'ok', database: db.kind, daemon });
  });
}
