import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../shared/errors.ts';
import { closedReason } from './calendar.ts';
import { loadConfig, parseConfig } from './config.ts';
import { selectStores } from './index.ts';
import { DEFAULT_STORES } from './stores.ts';

const store = { id: 'tienda_30', name: 'NUEVA', sucursal: 'SUC030', almacen: 'TNUE' };

function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('catalogue defaults', () => {
  it('has the 19 stores of the chain, no tienda_14, PARAISO opened 2025-12-06', () => {
    const config = parseConfig({});
    expect(config.stores).toHaveLength(19);
    expect(config.stores.map((s) => s.id)).not.toContain('tienda_14');
    expect(config.stores.find((s) => s.id === 'tienda_18')).toMatchObject({
      name: 'PARAISO',
      sucursal: 'SUC004',
      almacen: 'TPAR',
      openedOn: '2025-12-06',
    });
    expect(config.stores.find((s) => s.id === 'tienda_08')).toMatchObject({ opens: '08:00', closes: '00:00' });
    expect(new Set(config.stores.map((s) => s.sucursal)).size).toBe(19);
    expect(config.closedDays).toEqual(['12-25', '01-01']);
    expect(config.thresholds).toEqual({
      alta: 48,
      media: 68,
      partialRatio: 0.5,
      newStoreDays: 14,
      commonGapShare: 0.75,
    });
    expect([config.concurrency, config.lineBudget, config.klk.timeoutMs, config.klk.attempts]).toEqual([
      3, 30_000, 120_000, 4,
    ]);
    expect(config.database).toEqual({ reconnectSeconds: 10 });
  });
});

describe('config file', () => {
  it('replaces the catalogue and fills each store with defaults', () => {
    const config = parseConfig({ stores: [store], closedDays: ['12-24'], thresholds: { alta: 30 } });
    expect(config.stores).toEqual([
      { ...store, timeZone: 'America/Caracas', opens: '07:00', closes: '21:00', closedDays: [] },
    ]);
    expect(config.closedDays).toEqual(['12-24']);
    expect(config.thresholds.alta).toBe(30);
    expect(config.thresholds.media).toBe(68);
  });

  it.each([
    [{ stores: [{ ...store, openedOn: '2025-13-01' }] }, 'stores[0].openedOn: fecha inválida, se espera YYYY-MM-DD'],
    [{ stores: [{ ...store, opens: '7:00' }] }, 'stores[0].opens: hora inválida, se espera HH:MM'],
    [{ stores: [{ ...store, timeZone: 'Mars/Olympus' }] }, 'stores[0].timeZone: zona horaria desconocida'],
    [{ stores: [{ ...store, id: 'Tienda 1' }] }, 'stores[0].id: id inválido'],
    [{ stores: [store, store] }, 'stores[1].id: id repetido: tienda_30'],
    [{ stores: [store, { ...store, id: 'tienda_31' }] }, `stores[1].sucursal: sucursal repetida: ${store.sucursal}`],
    [
      { stores: [{ ...store, openedOn: '2026-01-02', closedOn: '2026-01-01' }] },
      'stores[0].closedOn: openedOn debe ser anterior',
    ],
    [{ closedDays: ['25-12'] }, 'closedDays[0]: día cerrado inválido'],
    [{ thresholds: { alta: 70, media: 60 } }, 'thresholds.alta: alta debe ser menor o igual a media'],
    [{ concurrency: 0 }, 'concurrency: Demasiado pequeño: se esperaba que número fuera >0'],
    [{ concurrency: 'tres' }, 'concurrency: Entrada inválida: se esperaba número, recibido texto'],
    [{ tiendas: [] }, '(raíz): Llave desconocida: "tiendas"'],
    [{ database: { reconnectSeconds: -1 } }, 'database.reconnectSeconds: Demasiado pequeño'],
  ])('names the bad field and what is allowed: %j', (raw, message) => {
    const error = errorOf(() => parseConfig(raw, 'configuración'));
    expect(error.message).toContain('configuración inválida');
    expect(error.message).toContain(message);
  });

  it('reads a JSON file, and says which file is unreadable or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ventas-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ concurrency: 5 }));
    expect(loadConfig(good).concurrency).toBe(5);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ concurrency: 5');
    expect(errorOf(() => loadConfig(bad)).message).toContain(`${bad} no es JSON válido`);
    expect(errorOf(() => loadConfig(join(dir, 'nope.json'))).message).toContain('no se puede leer');
  });
});

describe('calendar', () => {
  const paraiso = DEFAULT_STORES.find((s) => s.id === 'tienda_18')!;
  const chain = ['12-25', '01-01'];

  it('closes the chain days every year, days outside the store life, and store closures', () => {
    expect(closedReason(paraiso, '2025-12-25', chain)).toBe('día cerrado de la cadena');
    expect(closedReason(paraiso, '2027-01-01', chain)).toBe('día cerrado de la cadena');
    expect(closedReason(paraiso, '2025-12-05', chain)).toBe('antes de la apertura (2025-12-06)');
    expect(closedReason(paraiso, '2025-12-06', chain)).toBeNull();
    const closing = { ...paraiso, closedOn: '2026-01-10', closedDays: ['2025-12-31', '05-01'] };
    expect(closedReason(closing, '2026-01-11', chain)).toBe('después del cierre (2026-01-10)');
    expect(closedReason(closing, '2025-12-31', chain)).toBe('día cerrado de la tienda');
  });
});

describe('selectStores', () => {
  it('defaults to all, de-duplicates, and rejects unknown ids listing the valid ones', () => {
    expect(selectStores(DEFAULT_STORES, undefined)).toHaveLength(19);
    expect(selectStores(DEFAULT_STORES, ['tienda_02', 'tienda_02']).map((s) => s.id)).toEqual(['tienda_02']);
    for (const given of [
      ['tienda_01,tienda_02'],
      ['tienda_01 tienda_02'],
      [' tienda_01, tienda_02 '],
      ['tienda_01', 'tienda_02,'],
    ]) {
      expect(selectStores(DEFAULT_STORES, given).map((s) => s.id)).toEqual(['tienda_01', 'tienda_02']);
    }
    const error = errorOf(() => selectStores(DEFAULT_STORES, ['tienda_14']));
    expect(error.message).toMatch(/^tienda desconocida: tienda_14\. Tiendas válidas: tienda_01, tienda_02/);
  });
});

describe('the daemon’s part of the configuration', () => {
  it('takes the schedule, healing and alert defaults when the file says nothing', () => {
    const config = parseConfig({});
    expect(config.daemon).toEqual({
      syncEveryMinutes: 60,
      syncHours: '06:00-23:00',
      recoveryAt: '03:00',
      recoveryDays: 1,
      leaseSeconds: 30,
    });
    expect(config.heal).toEqual({
      lookbackDays: 35,
      graceMinutes: 90,
      maxRequestsPerHour: 60,
      bigAboveStoreDays: 50,
      bigWindow: '22:00-06:00',
      maxAttempts: 5,
    });
    expect(config.alerts).toEqual({ klkDownMinutes: 15, staleAfterMinutes: 150, repeatMinutes: 360 });
  });

  it('keeps the channels given and names every wrong field in Spanish', () => {
    const alerts = {
      webhook: { url: 'https://hooks.example/ventas', secret: 'un-secreto-de-16+' },
      slack: { url: 'https://hooks.slack.com/services/T/B/X' },
      email: { smtp: 'smtp://127.0.0.1:2525', from: 'ventas@cadena.example', to: ['ops@cadena.example'] },
    };
    expect(parseConfig({ alerts }).alerts).toMatchObject(alerts);
    const bad = () =>
      parseConfig({
        daemon: { syncHours: '6-23', recoveryAt: '25:00' },
        heal: { bigWindow: '22:00' },
        alerts: { webhook: { url: 'no-es-url', secret: 'corto' }, email: { smtp: 'http://x', from: 'yo', to: [] } },
      });
    expect(bad).toThrow(UsageError);
    const message = (() => {
      try {
        bad();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const field of [
      'daemon.syncHours',
      'daemon.recoveryAt',
      'heal.bigWindow',
      'alerts.webhook.url',
      'alerts.webhook.secret',
      'alerts.email.smtp',
      'alerts.email.from',
      'alerts.email.to',
    ]) {
      expect(message).toContain(`  - ${field}: `);
    }
    expect(message).toContain('franja inválida, se espera HH:MM-HH:MM (p. ej. 06:00-23:00)');
  });
});
