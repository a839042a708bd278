/**
 * Who may reach the dashboard and who may read or change anything: loopback by default; another address only with a
 * token, and with a token every request for data or a change must carry it. The rules, then the middleware that
 * applies them.
 */
import { isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { getCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { timingSafeEqual } from 'hono/utils/buffer';
import { UsageError } from '../shared/errors.ts';

/** A host only this machine can reach: `localhost`, 127.0.0.0/8, `::1` (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** Refuses to serve beyond this machine without a token: anyone on the network could start backfills. */
export function assertBindAllowed(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || token) return;
  throw new UsageError(
    `no se sirve en ${host} sin VENTAS_API_TOKEN: desde la red cualquiera podría lanzar un backfill. ` +
      `Defina VENTAS_API_TOKEN o use --host 127.0.0.1 (por defecto).`,
  );
}

/** What a bearer token may hold (RFC 6750's b64token): anything else could not be sent in an Authorization header. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Refuses a VENTAS_API_TOKEN that no client could send as a bearer: said at start, not as a 401 later. */
export function assertTokenUsable(token: string | undefined): void {
  if (token === undefined || BEARER_TOKEN.test(token)) return;
  throw new UsageError(
    'VENTAS_API_TOKEN solo puede tener letras, dígitos y - . _ ~ + / (y = al final), para viajar en ' +
      '"Authorization: Bearer …"; genere uno con, por ejemplo, `openssl rand -hex 32`.',
  );
}

/** The cookie the page keeps the token in once a person has typed it (HttpOnly: no script can read it). */
export const TOKEN_COOKIE = 'ventas_token';

/** The Set-Cookie that keeps the token for this site only, out of reach of scripts. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/** Two secrets compared in constant time (hashed first, as bearerAuth compares the header's). */
export function sameSecret(given: string, token: string): Promise<boolean> {
  return timingSafeEqual(given, token);
}

/**
 * The Host header of a request to a loopback-bound server must name the loopback too: a foreign name pointing at
 * 127.0.0.1 (DNS rebinding) would otherwise let any web page read the API from the user's browser.
 */
export function hostHeaderAllowed(hostHeader: string | undefined, boundToLoopback: boolean): boolean {
  if (!boundToLoopback) return true;
  if (!hostHeader) return false;
  const hostname = hostHeader.startsWith('[')
    ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
    : hostHeader.replace(/:\d+$/, '');
  return isLoopbackHost(hostname);
}

/** A browser's cross-site request carries another Origin than the Host it is sent to. */
export function sameOrigin(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === hostHeader;
  } catch {
    return false;
  }
}

/** Every request, the page's files included, names this machine when the server listens only on it. */
export function loopbackHostOnly(boundToLoopback: boolean): MiddlewareHandler {
  return async (c, next) => {
    if (!hostHeaderAllowed(c.req.header('host'), boundToLoopback))
      throw new HTTPException(403, { message: 'nombre de host no permitido: use 127.0.0.1 o localhost' });
    await next();
  };
}

/** Refuses what another site's page sends with the user's cookie: reads too, the figures are business secrets. */
export const sameOriginOnly: MiddlewareHandler = async (c, next) => {
  if (!sameOrigin(c.req.header('origin'), c.req.header('host')))
    throw new HTTPException(403, { message: 'petición desde otro origen rechazada' });
  await next();
};

const MISSING = 'falta el token: envíe Authorization: Bearer <VENTAS_API_TOKEN>';
const WRONG =
  'token incorrecto: envíe Authorization: Bearer <VENTAS_API_TOKEN> con el token con que se inició el servidor';
const CHALLENGE = 'Bearer realm="ventas"';

/**
 * With a token set: `Authorization: Bearer TOKEN` (bearerAuth) or the page's cookie. Missing and wrong are different
 * mistakes, each named as what it is; a malformed header is a wrong token, as it always was (401, not bearerAuth's 400).
 */
export function tokenRequired(token: string): MiddlewareHandler {
  const refuse = (message: string) => (c: Context) => c.json({ error: message }, 401);
  const bearer = bearerAuth({
    token,
    realm: 'ventas',
    noAuthenticationHeader: { message: (c) => refuse(getCookie(c, TOKEN_COOKIE) === undefined ? MISSING : WRONG)(c) },
    invalidAuthenticationHeader: { message: refuse(WRONG), wwwAuthenticateHeader: CHALLENGE },
    invalidToken: { message: refuse(WRONG), wwwAuthenticateHeader: CHALLENGE },
  });
  return async (c, next) => {
    const cookie = getCookie(c, TOKEN_COOKIE);
    if (cookie !== undefined && (await sameSecret(cookie, token))) return next();
    return bearer(c, next);
  };
}
