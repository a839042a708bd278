/**
 * Credentials never leave the process: a URL's user information and the values of query parameters that name a
 * secret are hidden wherever a URL or a command is stored (the run history), logged or shown.
 */
const SECRET_PARAM = /token|key|secret|passw|pwd|auth|signature|sig|credential/i;
export const HIDDEN = '[oculto]';

/** The URL with its user, password and secret-looking query values hidden; anything else unchanged. */
export function redactUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || !URL.canParse(text)) return text;
  const url = new URL(text);
  let changed = false;
  if (url.username || url.password) {
    url.username = url.username ? HIDDEN : '';
    url.password = '';
    changed = true;
  }
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAM.test(name)) {
      url.searchParams.set(name, HIDDEN);
      changed = true;
    }
  }
  // Unchanged URLs keep their exact spelling (URL would normalise them, a trailing slash added).
  return changed ? url.toString().replaceAll(encodeURIComponent(HIDDEN), HIDDEN) : text;
}

/** Command-line arguments with every URL in them redacted, `--flag=URL` included. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg) => {
    const eq = /^(--[\w-]+=)(.*)$/.exec(arg);
    return eq ? `${eq[1]}${redactUrl(eq[2]!)}` : redactUrl(arg);
  });
}
