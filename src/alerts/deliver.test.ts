import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { deadPort } from '../../test/support/klk.ts';
import { httpSink, smtpSink, type HttpSink, type SmtpSink } from '../../test/support/sinks.ts';
import type { AlertsConfig } from '../catalogue/config.ts';
import type { Db, Queryable } from '../db/types.ts';
import { decide, type Observed } from '../incidents/rules.ts';
import { applyDecision, listDeliveries, readIncidentState, type AlertChannel } from '../incidents/store.ts';
import { createAlertSender, type AlertSender } from './channels.ts';
import { deliverDue, runDeliveries, type DeliveryReport } from './deliver.ts';

/**
 * The alerts leave through real local receivers: an HTTP server that checks the webhook's signature and JSON, the
 * same for Slack, and an SMTP server for the e-mail. Failures are retried from the table, on the `ventas` clock
 * given to each pass (no waiting), and never stop a pass.
 */

const T0 = new Date('2026-01-10T14:30:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const SECRET = 'una-clave-de-prueba-larga';
const THRESHOLDS = { klkDownMinutes: 15, staleAfterMinutes: 150, repeatMinutes: 360 };
const STORES = [{ id: 'tienda_01', name: 'PERIFERICO', timeZone: 'America/Caracas' }];
const NOTHING: Observed = {
  klkUnreachableSince: null,
  staleStores: [],
  recoveryFailed: null,
  healExhausted: [],
  quarantined: [],
};
const NO_ALERTS: DeliveryReport = { delivered: 0, retrying: 0, gaveUp: 0, error: null };

const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

describeEachBackend('alert delivery', (open) => {
  let db: Db;
  const closing: Array<() => Promise<void> | void> = [];
  beforeEach(async () => {
    db = await open();
  });
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    await db.close();
  });

  async function sink(answer?: Parameters<typeof httpSink>[0]): Promise<HttpSink> {
    const s = await httpSink(answer);
    closing.push(() => s.close());
    return s;
  }
  async function mailSink(): Promise<SmtpSink> {
    const s = await smtpSink();
    closing.push(() => s.close());
    return s;
  }
  function sender(alerts: Partial<AlertsConfig>, options?: { timeoutMs?: number }): AlertSender {
    const s = createAlertSender({ ...THRESHOLDS, ...alerts }, options);
    closing.push(() => s.close());
    return s;
  }
  /** One daemon cycle: what it saw at `now`, decided and applied, alerts queued for `channels`. */
  async function cycle(observed: Partial<Observed>, now: Date, channels: readonly AlertChannel[]) {
    const state = await readIncidentState(db);
    const decision = decide({ ...NOTHING, ...observed }, state, { now, alerts: THRESHOLDS, stores: STORES });
    return applyDecision(db, decision, channels);
  }

  it('POSTs the webhook JSON in the documented shape, signed with the HMAC-SHA256 of its raw body', async () => {
    const hook = await sink();
    const s = sender({ webhook: { url: `${hook.url}/hook`, secret: SECRET } });
    const { opened } = await cycle({ klkUnreachableSince: at(-15) }, T0, s.channels);
    const id = opened[0]!.id;

    expect(await deliverDue(db, s, { now: () => at(1) })).toEqual({ ...NO_ALERTS, delivered: 1 });
    expect(hook.received).toHaveLength(1);
    const [request] = hook.received;
    expect(request).toMatchObject({ method: 'POST', path: '/hook' });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-ventas-signature']).toBe(sign(request!.body));
    expect(request!.body).toBe(
      JSON.stringify({
        event: 'incident.opened',
        incident: {
          id,
          kind: 'klk_unreachable',
          store: null,
          dates: [],
          openedAt: '2026-01-10T14:30:00.000Z',
          resolvedAt: null,
          summary: 'KLK no responde desde las 10:15 (15 min)',
        },
        sentAt: '2026-01-10T14:31:00.000Z',
      }),
    );

    await cycle({}, at(30), s.channels);
    expect(await deliverDue(db, s, { now: () => at(31) })).toEqual({ ...NO_ALERTS, delivered: 1 });
    const resolved = hook.received[1]!;
    expect(resolved.headers['x-ventas-signature']).toBe(sign(resolved.body));
    expect(resolved.headers['x-ventas-signature']).not.toBe(sign(`${resolved.body} `));
    expect(JSON.parse(resolved.body)).toEqual({
      event: 'incident.resolved',
      incident: {
        id,
        kind: 'klk_unreachable',
        store: null,
        dates: [],
        openedAt: '2026-01-10T14:30:00.000Z',
        resolvedAt: '2026-01-10T15:00:00.000Z',
        summary: 'KLK responde de nuevo; no respondió desde las 10:15 hasta las 11:00 (45 min)',
      },
      sentAt: '2026-01-10T15:01:00.000Z',
    });
    expect(resolved.headers['x-ventas-delivery']).not.toBe(request!.headers['x-ventas-delivery']);
    expect((await listDeliveries(db)).map((d) => [d.event, d.attempts, d.deliveredAt])).toEqual([
      ['opened', 1, at(1)],
      ['resolved', 1, at(31)],
    ]);
  });

  it('retries a failing receiver with growing pauses, across a restart, while the other channels go on', async () => {
    const hook = await sink((_r, i) => (i < 2 ? { status: 500, body: 'boom' } : { status: 200 }));
    const slack = await sink();
    const alerts = { webhook: { url: hook.url, secret: SECRET }, slack: { url: `${slack.url}/services/x` } };
    const first = sender(alerts);
    await cycle({ quarantined: [{ store: 'tienda_01', day: '2026-01-08', lines: 3 }] }, T0, first.channels);

    expect(await deliverDue(db, first, { now: () => T0 })).toEqual({ ...NO_ALERTS, delivered: 1, retrying: 1 });
    expect(slack.received).toHaveLength(1);
    let webhook = (await listDeliveries(db)).find((d) => d.channel === 'webhook')!;
    expect(webhook).toMatchObject({ attempts: 1, deliveredAt: null, lastError: 'el webhook respondió HTTP 500: boom' });
    // The first pause is 15 to 30 s (30 s, jittered down to half at most).
    const firstPause = webhook.nextAttemptAt.getTime() - T0.getTime();
    expect(firstPause).toBeGreaterThanOrEqual(15_000);
    expect(firstPause).toBeLessThanOrEqual(30_000);

    // Not due yet: nothing is sent.
    expect(await deliverDue(db, first, { now: () => new Date(T0.getTime() + 14_999) })).toEqual(NO_ALERTS);
    expect(hook.received).toHaveLength(1);

    const second = webhook.nextAttemptAt;
    expect(await deliverDue(db, first, { now: () => second })).toEqual({ ...NO_ALERTS, retrying: 1 });
    webhook = (await listDeliveries(db)).find((d) => d.channel === 'webhook')!;
    const secondPause = webhook.nextAttemptAt.getTime() - second.getTime();
    expect(secondPause).toBeGreaterThanOrEqual(30_000);
    expect(secondPause).toBeLessThanOrEqual(60_000);
    first.close();

    // Another process (a restart) finds it in the table and delivers it.
    const restarted = sender(alerts);
    expect(await deliverDue(db, restarted, { now: () => webhook.nextAttemptAt })).toEqual({
      ...NO_ALERTS,
      delivered: 1,
    });
    expect(hook.received).toHaveLength(3);
    expect(new Set(hook.received.map((r) => r.headers['x-ventas-delivery'])).size).toBe(1);
    expect(hook.received.every((r) => r.headers['x-ventas-signature'] === sign(r.body))).toBe(true);
    expect(new Set(hook.received.map((r) => JSON.parse(r.body).incident.summary)).size).toBe(1);
    expect((await listDeliveries(db)).map((d) => [d.channel, d.attempts, d.deliveredAt !== null, d.lastError])).toEqual(
      [
        ['webhook', 3, true, null],
        ['slack', 1, true, null],
      ],
    );
    expect(slack.received).toHaveLength(1);
    expect(await deliverDue(db, restarted, { now: () => at(600) })).toEqual(NO_ALERTS);
  });

  it('sends Slack an incoming-webhook {text} in Spanish, with markup characters escaped', async () => {
    const slack = await sink();
    const s = sender({ slack: { url: `${slack.url}/services/T0/B0/abc` } });
    const stale = [{ store: 'tienda_01', since: at(-160) }];
    await cycle({ staleStores: stale }, T0, s.channels);
    await deliverDue(db, s, { now: () => T0 });
    expect(slack.received.map((r) => [r.method, r.path, r.headers['content-type']])).toEqual([
      ['POST', '/services/T0/B0/abc', 'application/json'],
    ]);
    expect(JSON.parse(slack.received[0]!.body)).toEqual({
      text:
        ':rotating_light: *Incidente #1 abierto: tienda sin sincronizar en tienda_01*\n' +
        'tienda_01 (PERIFERICO): sin sincronización correcta desde las 07:50 (2 h 40 min)',
    });

    const state = await readIncidentState(db);
    const reminder = decide({ ...NOTHING, staleStores: stale }, state, {
      now: at(360),
      alerts: THRESHOLDS,
      stores: [{ id: 'tienda_01', name: 'A&B <1>', timeZone: 'America/Caracas' }],
    });
    await applyDecision(db, reminder, s.channels);
    await deliverDue(db, s, { now: () => at(360) });
    expect(JSON.parse(slack.received[1]!.body)).toEqual({
      text:
        ':bell: *Sigue abierto el incidente #1: tienda sin sincronizar en tienda_01* (abierto el 2026-01-10 10:30 UTC−4)\n' +
        'tienda_01 (A&amp;B &lt;1&gt;): sin sincronización correcta desde las 07:50 (8 h 40 min)',
    });
  });

  it('sends the e-mail over SMTP to every recipient, subject and body in Spanish', async () => {
    const mail = await mailSink();
    const s = sender({ email: { smtp: mail.url, from: 'ventas@example.com', to: ['a@example.com', 'b@example.com'] } });
    await cycle({ recoveryFailed: { day: '2026-01-09', ran: false } }, T0, s.channels);
    expect(await deliverDue(db, s, { now: () => T0 })).toEqual({ ...NO_ALERTS, delivered: 1 });
    expect(mail.received).toHaveLength(1);
    const [message] = mail.received;
    expect(message).toMatchObject({
      from: 'ventas@example.com',
      to: ['a@example.com', 'b@example.com'],
      subject: '[ventas] Incidente #1 abierto: recuperación nocturna fallida',
      text:
        'La recuperación nocturna del 2026-01-09 no se ejecutó\n\n' +
        'Incidente: #1 (recovery_failed)\n' +
        'Alcance: toda la cadena\n' +
        'Días: 2026-01-09\n' +
        'Abierto: 2026-01-10 10:30 UTC−4\n',
    });
    expect(message!.raw).toMatch(/^X-Ventas-Delivery: 1$/m);

    await cycle({}, at(90), s.channels);
    await deliverDue(db, s, { now: () => at(90) });
    expect(mail.received[1]).toMatchObject({
      subject: '[ventas] Resuelto el incidente #1: recuperación nocturna fallida',
      text: expect.stringMatching(
        /^La recuperación nocturna vuelve a completarse \(la del 2026-01-09 no se había ejecutado\)\n[^]*\nAbierto: 2026-01-10 10:30 UTC−4\nResuelto: 2026-01-10 12:00 UTC−4\n$/,
      ),
    });
  });

  it('records each failure without the channels’ secrets, and the pass goes on', async () => {
    const dead = await deadPort();
    const slack = await sink((r) => ({ status: 500, body: `no hay webhook en ${r.path}` }));
    const s = sender({
      webhook: { url: `http://hookuser:hookpass-123@127.0.0.1:${dead}/hook?token=tok-456`, secret: SECRET },
      slack: { url: `${slack.url}/services/T000/B000/slack-secret-789` },
      email: {
        smtp: `smtp://mailer:mail-pass-000@127.0.0.1:${dead}`,
        from: 'ventas@example.com',
        to: ['a@example.com'],
      },
    });
    await cycle({ klkUnreachableSince: at(-30) }, T0, s.channels);
    expect(await deliverDue(db, s, { now: () => T0 })).toEqual({ ...NO_ALERTS, retrying: 3 });

    const errors = Object.fromEntries((await listDeliveries(db)).map((d) => [d.channel, d.lastError ?? '']));
    expect(errors.slack).toBe('Slack respondió HTTP 500: no hay webhook en /[oculto]');
    expect(errors.webhook).toMatch(/ECONNREFUSED/);
    expect(errors.email).toMatch(/^connect ECONNREFUSED 127.0.0.1:\d+$/);
    for (const error of Object.values(errors)) {
      for (const secret of ['hookpass-123', 'tok-456', 'slack-secret-789', 'mail-pass-000', SECRET]) {
        expect(error).not.toContain(secret);
      }
    }
  });

  it('gives up a delivery still failing a day after its alert, and sends the incident’s next alert anyway', async () => {
    const hook = await sink(() => ({ status: 503 }));
    const s = sender({ webhook: { url: hook.url, secret: SECRET } });
    await cycle({ healExhausted: [{ store: 'tienda_01', dates: ['2026-01-05'], attempts: 5 }] }, T0, s.channels);
    expect(await deliverDue(db, s, { now: () => T0 })).toEqual({ ...NO_ALERTS, retrying: 1 });
    expect(await deliverDue(db, s, { now: () => at(24 * 60 - 1) })).toEqual({ ...NO_ALERTS, retrying: 1 });
    expect(await deliverDue(db, s, { now: () => at(24 * 60 + 10) })).toEqual({ ...NO_ALERTS, gaveUp: 1 });
    expect(await deliverDue(db, s, { now: () => at(48 * 60) })).toEqual(NO_ALERTS);
    expect((await listDeliveries(db))[0]).toMatchObject({
      attempts: 3,
      gaveUpAt: at(24 * 60 + 10),
      lastError: 'el webhook respondió HTTP 503',
    });

    await cycle({}, at(48 * 60), s.channels);
    expect(await deliverDue(db, s, { now: () => at(48 * 60) })).toEqual({ ...NO_ALERTS, retrying: 1 });
    expect(hook.received.map((r) => JSON.parse(r.body).event)).toEqual([
      'incident.opened',
      'incident.opened',
      'incident.opened',
      'incident.resolved',
    ]);
  });

  it('passes until stopped, on through failures, and stops at once while waiting', async () => {
    const hook = await sink((_r, i) => (i === 0 ? { status: 500 } : { status: 200 }));
    const s = sender({ webhook: { url: hook.url, secret: SECRET } });
    await cycle({ klkUnreachableSince: at(-20) }, T0, s.channels);
    let clock = T0;
    const reports: DeliveryReport[] = [];
    const stop = new AbortController();
    await runDeliveries(db, s, {
      signal: stop.signal,
      everyMs: 0,
      now: () => clock,
      onPass: (report) => {
        reports.push(report);
        clock = new Date(clock.getTime() + 3_600_000);
        if (report.delivered > 0) stop.abort();
      },
    });
    expect(reports).toEqual([
      { ...NO_ALERTS, retrying: 1 },
      { ...NO_ALERTS, delivered: 1 },
    ]);

    const idle = new AbortController();
    const passes: DeliveryReport[] = [];
    await runDeliveries(db, s, {
      signal: idle.signal,
      everyMs: 3_600_000,
      now: () => clock,
      onPass: (report) => {
        passes.push(report);
        idle.abort();
      },
    });
    expect(passes).toEqual([NO_ALERTS]);
  });
});

it('a pass whose database is away, or goes away while sending, reports it and does not throw', async () => {
  const hook = await httpSink();
  const s = createAlertSender({ ...THRESHOLDS, webhook: { url: hook.url, secret: SECRET } });
  try {
    const away: Queryable = {
      query: () => Promise.reject(new Error('la base de datos no responde')),
      exec: () => Promise.reject(new Error('no')),
      copyFrom: () => Promise.reject(new Error('no')),
    };
    expect(await deliverDue(away, s, { now: () => T0 })).toEqual({
      ...NO_ALERTS,
      error: 'la base de datos no responde',
    });

    // Taken, sent, and then the outcome cannot be written: the lease brings it back later.
    let calls = 0;
    const row = {
      id: 1,
      incident_id: 1,
      alert_no: 1,
      event: 'opened',
      channel: 'webhook',
      incident: {
        id: 1,
        kind: 'klk_unreachable',
        store: null,
        dates: [],
        openedAt: T0.toISOString(),
        resolvedAt: null,
        summary: 'KLK no responde',
      },
      created_at: T0,
      attempts: 1,
      next_attempt_at: at(2),
      delivered_at: null,
      gave_up_at: null,
      last_error: null,
    };
    const lost: Queryable = {
      ...away,
      query: <R>() =>
        calls++ === 0
          ? Promise.resolve({ rows: [row as R], rowCount: 1 })
          : Promise.reject(new Error('conexión perdida')),
    };
    expect(await deliverDue(lost, s, { now: () => T0 })).toEqual({ ...NO_ALERTS, error: 'conexión perdida' });
    expect(hook.received).toHaveLength(1);
  } finally {
    s.close();
    await hook.close();
  }
});

it('hides every secret of the channels from an error’s text', () => {
  const s = createAlertSender({
    ...THRESHOLDS,
    webhook: { url: 'https://hookuser:hookpass-123@hooks.example.com/in?token=tok-456', secret: SECRET },
    slack: { url: 'https://hooks.slack.com/services/T000/B000/slack-secret-789' },
    email: { smtp: 'smtps://mailer:mail%40pass@smtp.example.com:465', from: 'v@example.com', to: ['a@example.com'] },
  });
  const text = s.describe(
    new Error(
      'https://hookuser:hookpass-123@hooks.example.com/in?token=tok-456 https://hooks.slack.com/services/T000/B000/slack-secret-789 ' +
        `firmado con ${SECRET}; smtps://mailer:mail%40pass@smtp.example.com:465 rechazó mail@pass`,
      { cause: new Error('ruta /services/T000/B000/slack-secret-789') },
    ),
  );
  expect(text).toBe(
    'https://[oculto]@hooks.example.com/in?token=[oculto] https://hooks.slack.com/[oculto] firmado con [oculto]; ' +
      'smtps://[oculto]@smtp.example.com:465 rechazó [oculto]: ruta /[oculto]',
  );
});

it('gives up one attempt on a receiver that does not answer within the timeout', async () => {
  const hook = await httpSink(() => null);
  const s = createAlertSender({ ...THRESHOLDS, webhook: { url: hook.url, secret: SECRET } }, { timeoutMs: 100 });
  try {
    const incident = {
      id: 1,
      kind: 'klk_unreachable' as const,
      store: null,
      dates: [],
      openedAt: T0.toISOString(),
      resolvedAt: null,
      summary: 'KLK no responde',
    };
    const error = await s.send({ id: 1, event: 'opened', channel: 'webhook', incident }, T0).catch((e: unknown) => e);
    expect(s.describe(error)).toBe('sin respuesta en 100 ms');
    expect(hook.received).toHaveLength(1);
    await expect(s.send({ id: 1, event: 'opened', channel: 'slack', incident }, T0)).rejects.toThrow(
      'el canal slack no está configurado',
    );
  } finally {
    s.close();
    await hook.close();
  }
});
