/**
 * What each channel sends for an alert: the webhook's signed JSON, the Slack text and the e-mail, in Spanish for
 * people (the JSON's keys and event names stay English). Pure.
 */
import { createHmac } from 'node:crypto';
import type { AlertEvent, IncidentSnapshot } from '../incidents/store.ts';
import type { IncidentKind } from '../incidents/rules.ts';
import { localDateTime, utcOffsetLabel } from '../shared/dates.ts';

export const SIGNATURE_HEADER = 'X-Ventas-Signature';
/** The delivery's id: the same alert retried carries the same one, so a receiver can drop a repeat. */
export const DELIVERY_HEADER = 'X-Ventas-Delivery';

export interface WebhookPayload {
  event: `incident.${AlertEvent}`;
  incident: IncidentSnapshot;
  sentAt: string;
}

/** The webhook's JSON, keys in the documented order (the stored snapshot comes back from jsonb in its own). */
export function webhookPayload(event: AlertEvent, incident: IncidentSnapshot, sentAt: Date): WebhookPayload {
  return {
    event: `incident.${event}`,
    incident: {
      id: incident.id,
      kind: incident.kind,
      store: incident.store,
      dates: incident.dates,
      openedAt: incident.openedAt,
      resolvedAt: incident.resolvedAt,
      summary: incident.summary,
    },
    sentAt: sentAt.toISOString(),
  };
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

const KIND_LABELS: Record<IncidentKind, string> = {
  klk_unreachable: 'KLK no responde',
  store_stale: 'tienda sin sincronizar',
  recovery_failed: 'recuperación nocturna fallida',
  heal_exhausted: 'días que la reparación automática abandonó',
  quarantine: 'líneas en cuarentena',
};

/** "2026-01-10 10:15 UTC−4". */
function localTime(iso: string, timeZone: string): string {
  const at = new Date(iso);
  return `${localDateTime(timeZone, at).slice(0, 16)} ${utcOffsetLabel(timeZone, at)}`;
}

function headline(event: AlertEvent, incident: IncidentSnapshot): string {
  const what = `${KIND_LABELS[incident.kind]}${incident.store ? ` en ${incident.store}` : ''}`;
  switch (event) {
    case 'opened':
      return `Incidente #${incident.id} abierto: ${what}`;
    case 'reminder':
      return `Sigue abierto el incidente #${incident.id}: ${what}`;
    case 'resolved':
      return `Resuelto el incidente #${incident.id}: ${what}`;
  }
}

/** The e-mail: a subject and a plain-text body. */
export function emailMessage(
  event: AlertEvent,
  incident: IncidentSnapshot,
  timeZone: string,
): { subject: string; text: string } {
  const lines = [
    incident.summary,
    '',
    `Incidente: #${incident.id} (${incident.kind})`,
    `Alcance: ${incident.store ? `tienda ${incident.store}` : 'toda la cadena'}`,
    ...(incident.dates.length > 0 ? [`Días: ${incident.dates.join(', ')}`] : []),
    `Abierto: ${localTime(incident.openedAt, timeZone)}`,
    ...(incident.resolvedAt ? [`Resuelto: ${localTime(incident.resolvedAt, timeZone)}`] : []),
  ];
  return { subject: `[ventas] ${headline(event, incident)}`, text: `${lines.join('\n')}\n` };
}

const SLACK_ICONS: Record<AlertEvent, string> = {
  opened: ':rotating_light:',
  reminder: ':bell:',
  resolved: ':white_check_mark:',
};

/** Slack reads `&`, `<` and `>` as markup: they go escaped. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The incoming webhook's text: the headline in bold, the summary, and since when for a reminder. */
export function slackText(event: AlertEvent, incident: IncidentSnapshot, timeZone: string): string {
  const since = event === 'reminder' ? ` (abierto el ${localTime(incident.openedAt, timeZone)})` : '';
  return `${SLACK_ICONS[event]} *${slackEscape(headline(event, incident))}*${since}\n${slackEscape(incident.summary)}`;
}
