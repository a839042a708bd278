/**
 * `POST /api/session {"token"}`: the page trades the token a person typed for an HttpOnly cookie, so it never sits
 * where a script can read it. `{"required": false}` when the server has no token.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { sameOriginOnly, sameSecret, tokenCookie } from '../access.ts';
import { jsonBody, only } from '../http.ts';
import { sessionBody, valid } from '../params.ts';

export function sessionRoutes(token: string | undefined): Hono {
  return new Hono().all('/session', only('POST'), sameOriginOnly, jsonBody, valid('json', sessionBody), async (c) => {
    if (!token) return c.json({ required: false });
    const given = c.req.valid('json').token;
    if (given === undefined || !(await sameSecret(given, token)))
      throw new HTTPException(401, { message: 'token incorrecto' });
    c.header('Set-Cookie', tokenCookie(token));
    return c.json({ required: true });
  });
}
