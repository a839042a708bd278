/**
 * Who may reach the dashboard and who may change anything: loopback by default; another address only with a token,
 * and with a token every state-changing request must carry it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
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

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Two secrets compared in constant time. */
export function sameSecret(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

/** `Authorization: Bearer TOKEN`, compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && sameSecret(match[1]!, token);
}

/** The cookie the page keeps the token in once a person has typed it (HttpOnly: no script can read it). */
export const TOKEN_COOKIE = 'ventas_token';

/** The value of cookie `name` in a Cookie header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The Set-Cookie that keeps the token for this site only, out of reach of scripts. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * The Host header of a request to a loopback-bound server must name the loopback too: a foreign name pointing at
 * 127.0.0.1 (DNS rebinding) would otherwise let any web page read the API from the user's browser.
 */
export function hostHeaderAllowed(hostHeader: string | undefined, boundToLoopback: boolean): boolean {
  if (!boundToLoopback) return true;
  if (!hostHeader) return false;
  const hostname = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
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
