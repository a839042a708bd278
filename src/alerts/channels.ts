/**
 * The alert channels of `alerts` in the configuration: a signed webhook, a Slack incoming webhook and e-mail over
 * SMTP (nodemailer). A send either resolves (the receiver took it) or throws; what an error says never carries the
 * channels' secrets (URL credentials, the Slack URL's path, the webhook secret, the SMTP password).
 */
import { createTransport, type Transporter } from 'nodemailer';
import type { AlertsConfig } from '../catalogue/config.ts';
import type { AlertChannel, AlertEvent, IncidentSnapshot } from '../incidents/store.ts';
import { int } from '../shared/format.ts';
import { HIDDEN, redactUrl } from '../shared/redact.ts';
import { DELIVERY_HEADER, emailMessage, SIGNATURE_HEADER, signature, slackText, webhookPayload } from './message.ts';

export interface OutgoingAlert {
  /** The delivery's id (see DELIVERY_HEADER). */
  id: number;
  event: AlertEvent;
  channel: AlertChannel;
  incident: IncidentSnapshot;
}

export interface AlertSender {
  /** The channels configured, in a fixed order. */
  readonly channels: AlertChannel[];
  send(alert: OutgoingAlert, sentAt: Date): Promise<void>;
  /** An error's text with every secret of the channels hidden. */
  describe(error: unknown): string;
  /** Closes the SMTP connection, if any. */
  close(): void;
}

export interface SenderOptions {
  /** Local time in e-mails and Slack (the chain's zone). */
  timeZone?: string;
  /** One attempt's limit: connecting, sending and the answer. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** A secret's stand-in: URLs keep their scheme and host, the rest goes. */
function secretsOf(alerts: AlertsConfig): Array<[secret: string, shown: string]> {
  const found: Array<[string, string]> = [];
  if (alerts.webhook) found.push([alerts.webhook.url, redactUrl(alerts.webhook.url)], [alerts.webhook.secret, HIDDEN]);
  if (alerts.slack) {
    // The incoming webhook's path is its credential.
    const url = URL.canParse(alerts.slack.url) ? new URL(alerts.slack.url) : null;
    found.push([alerts.slack.url, url ? `${url.origin}/${HIDDEN}` : HIDDEN]);
    if (url && url.pathname.length > 1) found.push([url.pathname, `/${HIDDEN}`]);
  }
  if (alerts.email) {
    found.push([alerts.email.smtp, redactUrl(alerts.email.smtp)]);
    if (URL.canParse(alerts.email.smtp)) {
      const { password, username } = new URL(alerts.email.smtp);
      for (const part of [password, username].filter((p) => p.length >= 3)) {
        found.push([part, HIDDEN], [decoded(part), HIDDEN]);
      }
    }
  }
  // Longest first: a URL goes whole before a piece of it is looked for.
  return found.filter(([s]) => s.length > 0).sort((a, b) => b[0].length - a[0].length);
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray % the URL parser kept as it was
  }
}

function errorText(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `sin respuesta en ${int(timeoutMs)} ms`;
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : null;
  return cause && !error.message.includes(cause) ? `${error.message}: ${cause}` : error.message;
}

async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  // fetch refuses a URL with credentials: they travel as Basic authorization instead.
  const target = new URL(url);
  const auth: Record<string, string> = {};
  if (target.username || target.password) {
    const user = `${decoded(target.username)}:${decoded(target.password)}`;
    auth.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    target.username = target.password = '';
  }
  const response = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'ventas', ...auth, ...headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const answer = await response.text().catch(() => '');
  if (!response.ok) {
    const said = answer.trim().slice(0, 200);
    throw new Error(`${what} respondió HTTP ${response.status}${said ? `: ${said}` : ''}`);
  }
}

export function createAlertSender(alerts: AlertsConfig, options: SenderOptions = {}): AlertSender {
  const timeZone = options.timeZone ?? 'America/Caracas';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = secretsOf(alerts);
  const channels: AlertChannel[] = [];
  if (alerts.webhook) channels.push('webhook');
  if (alerts.slack) channels.push('slack');
  if (alerts.email) channels.push('email');
  let mailer: Transporter | null = null;

  const senders: Record<AlertChannel, (alert: OutgoingAlert, sentAt: Date) => Promise<void>> = {
    async webhook(alert, sentAt) {
      const { url, secret } = alerts.webhook!;
      const body = JSON.stringify(webhookPayload(alert.event, alert.incident, sentAt));
      await postJson(
        url,
        body,
        { [SIGNATURE_HEADER]: signature(body, secret), [DELIVERY_HEADER]: String(alert.id) },
        timeoutMs,
        'el webhook',
      );
    },
    async slack(alert) {
      const body = JSON.stringify({ text: slackText(alert.event, alert.incident, timeZone) });
      await postJson(alerts.slack!.url, body, {}, timeoutMs, 'Slack');
    },
    async email(alert) {
      const { smtp, from, to } = alerts.email!;
      mailer ??= createTransport({
        url: smtp,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      const { subject, text } = emailMessage(alert.event, alert.incident, timeZone);
      await mailer.sendMail({ from, to, subject, text, headers: { [DELIVERY_HEADER]: String(alert.id) } });
    },
  };

  return {
    channels,
    async send(alert, sentAt) {
      if (!channels.includes(alert.channel)) throw new Error(`el canal ${alert.channel} no está configurado`);
      await senders[alert.channel](alert, sentAt);
    },
    describe(error) {
      let text = errorText(error, timeoutMs);
      for (const [secret, shown] of secrets) text = text.split(secret).join(shown);
      return text;
    },
    close() {
      mailer?.close();
      mailer = null;
    },
  };
}
