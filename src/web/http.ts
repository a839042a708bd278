/**
 * What every route shares: the one method it answers, and how a JSON body is taken in.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { every } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';

const MAX_BODY_BYTES = 16 * 1024;

/** The app runs on node:http (@hono/node-server): each request carries its Node request and response. */
export type NodeEnv = { Bindings: HttpBindings };

/** The path as the client wrote it (percent-escapes kept), for messages. */
export function requestPath(c: Context): string {
  return new URL(c.req.url).pathname;
}

/**
 * Each route is registered for every method and lets only its own through; the rest get 405 with `Allow`. HEAD is
 * refused too: Hono would answer it as a GET, and on the event stream that opens a stream nobody reads.
 */
export function only(method: 'GET' | 'POST'): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== method) {
      return c.json({ error: `método ${c.req.method} no admitido en ${requestPath(c)}: use ${method}` }, 405, {
        Allow: method,
      });
    }
    await next();
  };
}

/**
 * A JSON body of at most 16 KiB, parsed (a `valid('json', schema)` after it checks its shape). A JSON content type
 * also keeps plain cross-site form posts out: browsers must ask first (CORS), and we never agree.
 */
export const jsonBody: MiddlewareHandler = every(
  async (c, next) => {
    if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
      throw new HTTPException(415, { message: 'el cuerpo debe ser JSON (Content-Type: application/json)' });
    }
    await next();
  },
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new HTTPException(413, { message: `el cuerpo supera ${MAX_BODY_BYTES} bytes` });
    },
  }),
  async (c, next) => {
    try {
      await c.req.json();
    } catch {
      throw new HTTPException(400, {
        message: 'el cuerpo no es JSON válido: se espera {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "stores": [...]}',
      });
    }
    await next();
  },
);
