/**
 * The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) on the seed's
 * situation, as `ventas demo --serve` shows it, at 1440x900 and on a 390x844 phone: the holes on the map, the page
 * never wider than the screen, the map's cells reachable by keyboard and by touch, the plan's size confirmed before
 * anything is posted, live progress as a progressbar, the other open pages updated when the run ends.
 * One browser and one server for the file; the tests run in order on the same data (the backfill fills the map).
 * The README's screenshots are written when missing or with UPDATE_SCREENSHOTS=1 (else to the temp folder, so a
 * test run does not touch the committed images).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import { createBackfill } from '../backfill/ledger.ts';
import { recordHealAttempts } from '../daemon/heal-attempts.ts';
import type { Db } from '../db/types.ts';
import { runDemo, type DemoHooks } from '../demo/run.ts';
import { SEED_FROM, SEED_TO, seedSituation } from '../demo/seed-situation.ts';
import { daysBetween } from '../shared/dates.ts';
import { silentLogger } from '../shared/logger.ts';
import { generateDay, type RunningSimulator } from '../sim/index.ts';
import { finishRun, recordRequest, startRun } from '../sync/runs.ts';
import { fakeDaemon } from '../../test/support/daemon.ts';
import { startDashboard, type RunningDashboard } from './server.ts';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps calling home, which a closed network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** About 30 s for the file on an idle machine; room for a busy one (no speed is asserted). */
const SLOW_MACHINE_MS = 120_000;
const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
/** The page's poll of /api/runs (app.js RUNS_POLL_MS). */
const RUNS_POLL_MS = 10_000;

const quiet: DemoHooks = {
  phase() {},
  onHistoryProgress() {},
  onHistoryLoaded() {},
  onGaps() {},
  onPlan() {},
  onBackfillProgress() {},
  onBackfillDone() {},
};

const int = (n: number) => new Intl.NumberFormat('es-VE', { maximumFractionDigits: 0 }).format(n);
const twoDecimals = (n: number) =>
  new Intl.NumberFormat('es-VE', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
/** As the page writes estimates (app.js duration). */
function estimate(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `~${s} s`;
  const minutes = Math.round(s / 60);
  return minutes < 60
    ? `~${minutes} min`
    : `~${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** The README's image when asked (or missing), else one in the temp folder. */
function screenshotPath(name: string, tempDir: string): string {
  const committed = join(SCREENSHOTS, name);
  const path = process.env.UPDATE_SCREENSHOTS || !existsSync(committed) ? committed : join(tempDir, name);
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

async function pageWidths(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page
    .locator('html')
    .evaluate((html) => ({ scrollWidth: html.scrollWidth, innerWidth: html.ownerDocument.defaultView!.innerWidth }));
}

async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await pageWidths(page);
  expect(scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(innerWidth);
}

/** The legend's items as read: name and count. */
async function legend(page: Page): Promise<string[]> {
  return (await page.locator('#legend li').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
}

/** The rectangles of the visible month labels, and whether any label's text is cut. */
async function axisLabels(page: Page) {
  return page.locator('.hm-axis span').evaluateAll((spans) =>
    spans.map((s) => ({
      text: s.textContent,
      left: s.getBoundingClientRect().left,
      right: s.getBoundingClientRect().right,
      cut: s.scrollWidth > s.clientWidth,
    })),
  );
}

if (!existsSync(CHROMIUM))
  console.warn(
    `prueba del tablero en Chromium omitida: falta ${CHROMIUM} (apt-get install chromium; .ci/run lo instala)`,
  );

// In CI (.ci/run installs Chromium) a missing browser fails the run instead of skipping it.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('dashboard in Chromium', () => {
  const config = parseConfig({});
  const cell = (storeId: string, day: string) =>
    `.hm-row[data-r="${config.stores.findIndex((s) => s.id === storeId)}"] .c[data-i="${daysBetween(SEED_FROM, day)}"]`;
  let dataDir: string;
  let db: Db;
  let sim: RunningSimulator;
  let dashboard: RunningDashboard;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Errors any page reported; none are expected. */
  const pageErrors: string[] = [];
  // The seed's situation as loaded. At this small scale a day loaded only from 08:00 to 09:59 may have sold nothing
  // in those hours, and is then missing rather than partial (with simulator seed 2 none is).
  let missing: number;
  let partial: number;
  let expected: number;

  async function newPage(
    viewport: { width: number; height: number },
    options: { context?: BrowserContext; touch?: boolean; timezoneId?: string } = {},
  ) {
    let context = options.context;
    if (!context) {
      context = await browser.newContext({
        viewport,
        locale: 'es-VE',
        timezoneId: options.timezoneId ?? 'America/Caracas',
        ...(options.touch ? { hasTouch: true, isMobile: true } : {}),
      });
      contexts.push(context);
    }
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
    return page;
  }

  async function open(page: Page, query = ''): Promise<Page> {
    await page.goto(`${dashboard.url}/${query}`);
    await page.locator('#plan-summary', { hasText: /\S/ }).waitFor();
    await page.locator('#runs tbody tr').first().waitFor();
    return page;
  }

  async function api<T>(path: string): Promise<T> {
    return (await (await fetch(`${dashboard.url}${path}`)).json()) as T;
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ventas-e2e-'));
    ({ db, sim } = await runDemo(
      config,
      { dataDir, seed: 2, scale: 0.003, concurrency: 3, latencyMs: [0, 0], stopAfterPlan: true },
      silentLogger,
      quiet,
    ));
    dashboard = await startDashboard({
      db,
      config,
      klkUrl: sim.url,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      window: { from: SEED_FROM, to: SEED_TO },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const situation = seedSituation(config.stores, config.closedDays);
    const soldEarly = (storeId: string, day: string) => {
      const store = config.stores.find((s) => s.id === storeId)!;
      return (
        generateDay(sim.options, store.sucursal, day, {
          horaDesde: '08:00:00',
          horaHasta: '09:59:59',
          almacen: store.almacen,
        }).length > 0
      );
    };
    partial = situation.reduce((n, s) => n + s.partial.filter((d) => soldEarly(s.storeId, d)).length, 0);
    missing = situation.reduce((n, s) => n + s.missing.length + s.partial.length, 0) - partial;
    expected = situation.reduce((n, s) => n + s.present.length + s.partial.length + s.missing.length, 0);
  }, SLOW_MACHINE_MS);
  afterAll(async () => {
    // A page's own route may still be serving a poll when its context closes: let it go quietly.
    for (const context of contexts) {
      for (const page of context.pages()) await page.unrouteAll({ behavior: 'ignoreErrors' });
      await context.close();
    }
    await browser?.close();
    await dashboard?.close();
    await db?.close();
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  it(
    'at 1440x900 shows the seed situation’s holes with every state in the legend, and the page is no wider than the screen',
    async () => {
      const page = await open(await newPage(DESKTOP));
      expect(await page.locator('.hm-row').count()).toBe(config.stores.length);
      expect(await page.locator('.c.s-m').count()).toBe(missing);
      expect(await page.locator('.c.s-p').count()).toBe(partial);
      expect(await page.locator('#summary tbody tr').first().innerText()).toMatch(/^tienda_11\tFLOR AMARILLO/);
      expect(await legend(page)).toEqual([
        `Completo ${int(expected - missing - partial)}`,
        `Parcial ${partial}`,
        `Faltante ${missing}`,
        'Rechazado 0',
        'Vacío 0',
        `Cerrado ${await page.locator('.c.s-x').count()}`,
        'Futuro 0',
      ]);
      await expectNoSidewaysScroll(page);
      // 90 days fit the card at this width: the map does not scroll.
      expect(await page.locator('#hm-scroll').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      const labels = await axisLabels(page);
      expect(labels.map((l) => l.text)).toEqual(['Nov 2025', 'Dic', 'Ene 2026']);
      expect(labels.filter((l) => l.cut)).toEqual([]);

      await page.hover(cell('tienda_07', '2025-12-04'));
      expect(await page.locator('#tooltip').innerText()).toBe(
        'tienda_07 CENTRO · 2025-12-04 · faltante · 0 líneas · 0,00 USD',
      );
      // Focused, its tooltip stays through the screenshot's resize (a pointer's is hidden).
      await page.focus(cell('tienda_07', '2025-12-04'));
      const screenshot = screenshotPath('dashboard.png', dataDir);
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');
      // Every time shown says its zone: the data's time in the header, the history's start and ETL window.
      expect(await page.locator('#updated').innerText()).toMatch(
        /^Datos leídos a las \d\d:\d\d:\d\d \(hora de Caracas, UTC−4\)\.$/,
      );
      expect(await page.locator('#runs tbody tr').first().locator('[data-label="Inicio"]').innerText()).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC−4$/,
      );
      expect(await page.locator('#runs tbody tr').first().locator('[data-label="Ventana"]').innerText()).toBe(
        `${SEED_FROM} 00:00 a ${SEED_TO} 23:59 UTC−4`,
      );
      expect(await page.locator('#runs-started').innerText()).toBe('Inicio (hora de Caracas)');
    },
    SLOW_MACHINE_MS,
  );

  it(
    'lets the keyboard into the map with one Tab stop, moves with the arrows, and shows each cell’s tooltip on focus',
    async () => {
      const page = await open(await newPage(DESKTOP));
      await page.mouse.move(0, 0);
      await page.focus('#filters button[type="submit"]');
      await page.keyboard.press('Tab');
      const tooltip = page.locator('#tooltip');
      expect(await page.locator('.hm-row[data-r="0"] .c[data-i="0"]:focus').count()).toBe(1);
      expect(await tooltip.innerText()).toMatch(new RegExp(`^tienda_01 PERIFERICO · ${SEED_FROM} · \\w+ · `));
      for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowDown');
      for (let i = 0; i < daysBetween(SEED_FROM, '2025-12-04'); i++) await page.keyboard.press('ArrowRight');
      expect(await tooltip.innerText()).toBe('tienda_07 CENTRO · 2025-12-04 · faltante · 0 líneas · 0,00 USD');
      expect(await page.locator(cell('tienda_07', '2025-12-04')).getAttribute('aria-label')).toBe(
        await tooltip.innerText(),
      );
      // Beside the focused cell, inside the screen.
      const [tip, box] = [
        await tooltip.boundingBox(),
        await page.locator(cell('tienda_07', '2025-12-04')).boundingBox(),
      ];
      expect(tip!.y).toBeGreaterThan(box!.y);
      expect(tip!.x + tip!.width).toBeLessThanOrEqual(DESKTOP.width);
      // One Tab stop: leaving and coming back lands on the same cell.
      expect(await page.locator('#heatmap [tabindex="0"]').count()).toBe(1);
      await page.keyboard.press('Tab');
      expect(await tooltip.isHidden()).toBe(true);
      await page.keyboard.press('Shift+Tab');
      expect(await tooltip.innerText()).toBe('tienda_07 CENTRO · 2025-12-04 · faltante · 0 líneas · 0,00 USD');
      await page.keyboard.press('End');
      expect(await tooltip.innerText()).toMatch(new RegExp(`^tienda_07 CENTRO · ${SEED_TO} · `));
      await page.keyboard.press('Escape');
      expect(await tooltip.isHidden()).toBe(true);
      expect(await page.locator('#heatmap').getAttribute('role')).toBe('grid');
      expect(await page.locator('.hm-row').first().getAttribute('role')).toBe('row');
    },
    SLOW_MACHINE_MS,
  );

  it(
    'on a 390x844 phone never scrolls sideways: the map scrolls inside its card under fixed store names, and a tap shows a cell’s tooltip',
    async () => {
      // The browser's own zone is UTC: times still say the stores' zone.
      const page = await open(await newPage(PHONE, { touch: true, timezoneId: 'UTC' }));
      await expectNoSidewaysScroll(page);
      const scroller = page.locator('#hm-scroll');
      expect(await scroller.evaluate((el) => el.scrollWidth > el.clientWidth + 200)).toBe(true);
      const labels = await axisLabels(page);
      expect(labels.filter((l) => l.cut)).toEqual([]);
      for (let k = 1; k < labels.length; k++) expect(labels[k]!.left).toBeGreaterThanOrEqual(labels[k - 1]!.right);

      const label = page.locator('.hm-row[data-r="6"] .hm-label');
      const firstCell = page.locator('.hm-row[data-r="6"] .c[data-i="0"]');
      const [labelBefore, cellBefore] = [await label.boundingBox(), await firstCell.boundingBox()];
      await scroller.evaluate((el) => (el.scrollLeft = 300));
      const [labelAfter, cellAfter] = [await label.boundingBox(), await firstCell.boundingBox()];
      expect(labelAfter!.x).toBe(labelBefore!.x);
      expect(cellAfter!.x).toBeCloseTo(cellBefore!.x - 300, 0);
      expect(await label.innerText()).toBe('tienda_07 CENTRO');

      await page.tap(cell('tienda_07', '2025-12-04'));
      const tooltip = page.locator('#tooltip');
      expect(await tooltip.innerText()).toBe('tienda_07 CENTRO · 2025-12-04 · faltante · 0 líneas · 0,00 USD');
      const tip = (await tooltip.boundingBox())!;
      expect(tip.x).toBeGreaterThanOrEqual(0);
      expect(tip.x + tip.width).toBeLessThanOrEqual(PHONE.width);
      // The tapped cell is not under the fixed names.
      expect((await page.locator(cell('tienda_07', '2025-12-04')).boundingBox())!.x).toBeGreaterThanOrEqual(
        labelAfter!.x + labelAfter!.width,
      );
      await page.screenshot({ path: screenshotPath('dashboard-phone.png', dataDir) });

      // With a keyboard the focused day never hides under the names, and the tooltip follows it.
      const focusedClearOfNames = () =>
        page
          .locator('.c:focus')
          .evaluate(
            (c) => c.getBoundingClientRect().left > c.parentElement!.firstElementChild!.getBoundingClientRect().right,
          );
      for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowLeft');
      expect(await focusedClearOfNames()).toBe(true);
      expect(await tooltip.innerText()).toMatch(/^tienda_07 CENTRO · 2025-11-14 · /);
      await page.keyboard.press('Home');
      expect([await focusedClearOfNames(), await scroller.evaluate((el) => el.scrollLeft)]).toEqual([true, 0]);
      await page.keyboard.press('End');
      expect(
        await page
          .locator('.c:focus')
          .evaluate(
            (c, right) => c.getBoundingClientRect().right <= right,
            (await scroller.boundingBox())!.x + (await scroller.boundingBox())!.width,
          ),
      ).toBe(true);

      await expectNoSidewaysScroll(page);
      expect(await page.locator('#runs tbody tr').first().locator('[data-label="Inicio"]').innerText()).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC−4$/,
      );
      await page.locator('#store-picker summary').tap();
      await expectNoSidewaysScroll(page);
      await page.screenshot({ path: join(dataDir, 'dashboard-phone-full.png'), fullPage: true });
    },
    SLOW_MACHINE_MS,
  );

  it(
    'draws rejected and future days with their own shape and names them in the legend and the tooltip',
    async () => {
      const page = await newPage(DESKTOP);
      // This window has neither state yet: the answer is edited on its way to the page.
      await page.route('**/api/coverage?*', async (route) => {
        const response = await route.fetch();
        const body = await response.json();
        const s = body.stores[0];
        s.states = `${s.states[0]}r${s.states.slice(2, -1)}f`;
        s.rejected = s.lines.map(() => 0);
        [s.lines[1], s.totalUsd[1], s.rejected[1]] = [0, 0, 1_250];
        await route.fulfill({ response, json: body });
      });
      await open(page);
      const items = await legend(page);
      expect([items[3], items[6]]).toEqual(['Rechazado 1', 'Futuro 1']);
      expect(await page.locator('#totals .card', { hasText: 'Rechazados' }).locator('.value').innerText()).toBe('1');
      await page.hover('.hm-row[data-r="0"] .c[data-i="1"]');
      expect(await page.locator('#tooltip').innerText()).toBe(
        'tienda_01 PERIFERICO · 2025-10-29 · rechazado · 0 líneas · 0,00 USD · 1.250 líneas rechazadas',
      );
      await page.hover(`.hm-row[data-r="0"] .c[data-i="${daysBetween(SEED_FROM, SEED_TO)}"]`);
      expect(await page.locator('#tooltip').innerText()).toMatch(
        new RegExp(`^tienda_01 PERIFERICO · ${SEED_TO} · futuro · `),
      );

      // Told apart without colour: with every colour taken out, each state's drawing is still its own. And every
      // state's marks reach 3:1 against white.
      const swatches = await page.locator('#legend .swatch').evaluateAll((elements) => {
        const luminance = (rgb: number[]) => {
          const [r, g, b] = rgb
            .map((v) => v / 255)
            .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        return elements.map((el) => {
          const style = el.ownerDocument.defaultView!.getComputedStyle(el);
          const border = style.borderTopStyle === 'none' ? '' : `${style.borderTopStyle} ${style.borderTopColor}`;
          const drawn = [style.backgroundColor, style.backgroundImage, style.boxShadow, border].join(' | ');
          const colours = [...drawn.matchAll(/rgba?\(([^)]*)\)/g)]
            .map((m) => m[1]!.split(',').map(Number))
            .filter((c) => c.length === 3 || c[3] !== 0);
          const best = Math.max(...colours.map((c) => 1.05 / (luminance(c.slice(0, 3)) + 0.05)));
          return {
            shape: drawn.replace(/rgba?\([^)]*\)/g, 'C').replace(/transparent/g, 'C'),
            contrast: Math.round(best * 100) / 100,
          };
        });
      });
      expect(new Set(swatches.map((s) => s.shape)).size).toBe(7);
      for (const s of swatches) expect(s.contrast).toBeGreaterThanOrEqual(3);
      // Done with the edited answers: a refresh still on its way as the page closes must not fail the run.
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      await page.close();
    },
    SLOW_MACHINE_MS,
  );

  it(
    'under the daemon shows its panel and the incidents at 1440 and 390, and for a store-day its last attempt, error and next try',
    async () => {
      // The ventas clock the day after the window, 10:00 in Caracas: the common gap's days are the daemon's to heal.
      vi.stubEnv('VENTAS_CLOCK', '2026-01-26T14:00:00.000Z,0,0');
      const day = '2026-01-20';
      const heal = await startRun(db, {
        type: 'manual',
        window: { from: `${day} 00:00:00`, to: `${day} 23:59:59` },
        stores: ['tienda_07'],
        command: 'ventas daemon',
      });
      await recordRequest(db, {
        runId: heal,
        storeId: 'tienda_07',
        dayFrom: day,
        dayTo: day,
        outcome: 'failed',
        lines: 0,
        durationMs: 30_000,
        attempts: 4,
        error: 'HTTP 502 de KLK',
      });
      await finishRun(db, heal, 'failed', {}, 'tienda_07: HTTP 502 de KLK');
      for (const at of ['2026-01-26T13:00:00.000Z', '2026-01-26T13:30:00.000Z'])
        await recordHealAttempts(db, [{ store: 'tienda_07', day }], new Date(at));
      const daemon = fakeDaemon({
        leader: { holder: 'ventas-a:4242', since: '2026-01-26T10:00:00.000Z' },
        isLeader: true,
        lastSync: '2026-01-26T13:00:00.000Z',
        nextSync: '2026-01-26T15:00:00.000Z',
        lastRecovery: '2026-01-26T07:00:00.000Z',
        nextRecovery: '2026-01-27T07:00:00.000Z',
        backlog: 12,
        budget: { maxRequestsPerHour: 60, usedThisHour: 15, left: 45 },
        lastCycleEndedAt: '2026-01-26T13:30:00.000Z',
      });
      daemon.incidents.open({
        kind: 'quarantine',
        store: 'tienda_03',
        dates: ['2026-01-02', '2026-01-03', '2026-01-05', '2026-01-08'],
        openedAt: '2026-01-26T12:00:00.000Z',
        summary: 'tienda_03: 42 líneas en cuarentena en 4 días',
      });
      const stale = daemon.incidents.open({
        kind: 'store_stale',
        store: 'tienda_05',
        dates: [],
        openedAt: '2026-01-26T11:00:00.000Z',
        summary: 'tienda_05 volvió a sincronizar',
      });
      daemon.incidents.resolve(stale.id, '2026-01-26T12:30:00.000Z');
      daemon.incidents.open({
        kind: 'klk_unreachable',
        store: null,
        dates: [],
        openedAt: '2026-01-26T13:15:00.000Z',
        summary: 'KLK no responde desde las 09:15 (45 min)',
      });
      const withDaemon = await startDashboard({
        db,
        config,
        klkUrl: sim.url,
        logger: silentLogger,
        host: '127.0.0.1',
        port: 0,
        window: { from: SEED_FROM, to: SEED_TO },
        daemon,
      });
      const daemonContexts: BrowserContext[] = [];
      const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();
      const factOf = (page: Page, box: string, key: string) => page.locator(`#${box} [data-fact="${key}"] dd`);
      try {
        // `ventas serve` has no daemon: no panel, and a day's next try is the command to run by hand.
        const served = await open(await newPage(DESKTOP));
        expect(await served.locator('#daemon-area').isHidden()).toBe(true);
        await served.click(cell('tienda_07', '2025-12-04'));
        await served.locator('#day-detail [data-fact="next"]').waitFor();
        expect(await served.locator('#day-detail-title').innerText()).toBe('tienda_07 CENTRO · 2025-12-04');
        expect(await factOf(served, 'day-detail', 'last-attempt').innerText()).toBe('ninguno registrado');
        expect(await factOf(served, 'day-detail', 'next').innerText()).toBe(
          'Este tablero no corre el daemon: recupérelo a mano.',
        );
        expect(await factOf(served, 'day-detail', 'command').innerText()).toBe(
          'npx ventas backfill --from 2025-12-04 --to 2025-12-04 --stores tienda_07',
        );

        const page = await newPage(DESKTOP);
        daemonContexts.push(page.context());
        await page.goto(`${withDaemon.url}/`);
        await page.locator('#daemon-facts [data-fact="backlog"]').waitFor();
        await page.locator('#runs tbody tr').first().waitFor();
        expect(await page.locator('#daemon-state').innerText()).toBe('Lidera este proceso');
        expect(await factOf(page, 'daemon-facts', 'leader').innerText()).toBe(
          'ventas-a:4242 (este proceso), desde 2026-01-26 06:00:00 UTC−4',
        );
        expect(await factOf(page, 'daemon-facts', 'last-sync').innerText()).toBe('2026-01-26 09:00:00 UTC−4');
        expect(await factOf(page, 'daemon-facts', 'next-sync').innerText()).toBe('2026-01-26 11:00:00 UTC−4');
        expect(await factOf(page, 'daemon-facts', 'next-recovery').innerText()).toBe('2026-01-27 03:00:00 UTC−4');
        expect(await factOf(page, 'daemon-facts', 'backlog').innerText()).toBe('12 días-tienda');
        expect(await factOf(page, 'daemon-facts', 'budget').innerText()).toBe('15 de 60 peticiones usadas · quedan 45');
        expect(await factOf(page, 'daemon-facts', 'last-cycle').innerText()).toBe('2026-01-26 09:30:00 UTC−4');

        expect(await page.locator('#incidents-title').innerText()).toBe('Incidentes abiertos: 2');
        const openIncidents = page.locator('#incidents-open .incident');
        expect((await openIncidents.locator('.incident-head').allTextContents()).map(squeeze)).toEqual([
          'abierto KLK no responde toda la cadena',
          'abierto Líneas en cuarentena tienda_03 · del 2026-01-02 al 2026-01-08 (4 días)',
        ]);
        expect(await openIncidents.first().locator('.when').innerText()).toMatch(
          /^#\d+ · abierto desde 2026-01-26 09:15:00 UTC−4$/,
        );
        expect(await page.locator('#incidents-resolved-summary').innerText()).toBe('Resueltos recientemente (1)');
        expect(await page.locator('#incidents-resolved .incident').isVisible()).toBe(false);
        await page.click('#incidents-resolved-summary');
        expect(squeeze(await page.locator('#incidents-resolved .incident-head').innerText())).toBe(
          'resuelto Tienda sin sincronizar tienda_05',
        );

        // A day of the common gap the daemon tried and failed: by keyboard, Enter on the focused cell.
        await page.focus(cell('tienda_07', day));
        await page.keyboard.press('Enter');
        await page.locator('#day-detail [data-fact="error"]').waitFor();
        expect(await page.locator('#day-detail-title').innerText()).toBe(`tienda_07 CENTRO · ${day}`);
        expect(await factOf(page, 'day-detail', 'state').innerText()).toBe('faltante · 0 líneas');
        expect(await factOf(page, 'day-detail', 'last-attempt').innerText()).toMatch(
          new RegExp(
            `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC−4 · el día entero: falló\\nETL manual #${heal} \\(ventas daemon\\), fallido$`,
          ),
        );
        expect(await factOf(page, 'day-detail', 'error').innerText()).toBe('HTTP 502 de KLK');
        expect(await factOf(page, 'day-detail', 'heal-attempts').innerText()).toBe(
          '2 de 5, el último 2026-01-26 09:30:00 UTC−4',
        );
        expect(await factOf(page, 'day-detail', 'next').innerText()).toBe(
          '2026-01-26 10:30:00 UTC−4 · En el próximo ciclo del daemon, dentro del presupuesto (quedan 45 de 60 ' +
            'peticiones esta hora); 12 días-tienda en cola, los más recientes primero.',
        );
        expect(await page.locator(`${cell('tienda_07', day)}:focus`).count()).toBe(1);
        await expectNoSidewaysScroll(page);
        const screenshot = screenshotPath('dashboard-daemon.png', dataDir);
        await page.screenshot({ path: screenshot, fullPage: true });
        expect(readFileSync(screenshot).subarray(1, 4).toString()).toBe('PNG');

        const phone = await newPage(PHONE, { touch: true, timezoneId: 'UTC' });
        daemonContexts.push(phone.context());
        await phone.goto(`${withDaemon.url}/`);
        await phone.locator('#daemon-facts [data-fact="backlog"]').waitFor();
        await phone.locator('#runs tbody tr').first().waitFor();
        await expectNoSidewaysScroll(phone);
        expect(await factOf(phone, 'daemon-facts', 'next-sync').innerText()).toBe('2026-01-26 11:00:00 UTC−4');
        await phone.locator('#incidents-resolved-summary').tap();
        await phone.tap(cell('tienda_07', day));
        await phone.locator('#day-detail [data-fact="error"]').waitFor();
        expect(await factOf(phone, 'day-detail', 'error').innerText()).toBe('HTTP 502 de KLK');
        await expectNoSidewaysScroll(phone);
        // Every part of the panel, the incidents and the detail lies inside the screen.
        for (const selector of ['#daemon-panel', '#incidents-panel', '#day-detail']) {
          const box = (await phone.locator(selector).boundingBox())!;
          expect(box.x, selector).toBeGreaterThanOrEqual(0);
          expect(box.x + box.width, selector).toBeLessThanOrEqual(PHONE.width);
        }
        await phone.locator('#day-detail').scrollIntoViewIfNeeded();
        const phoneShot = screenshotPath('dashboard-daemon-phone.png', dataDir);
        await phone.screenshot({ path: phoneShot });
        expect(readFileSync(phoneShot).subarray(1, 4).toString()).toBe('PNG');
      } finally {
        vi.unstubAllEnvs();
        // Its pages first: their polls must not meet a server that is gone.
        for (const context of daemonContexts) await context.close();
        await withDaemon.close();
      }
    },
    SLOW_MACHINE_MS,
  );

  it(
    'shows the plan’s size before anything is posted, and cancelling posts nothing',
    async () => {
      const page = await open(await newPage(DESKTOP));
      const posts: string[] = [];
      page.on('request', (request) => request.method() !== 'GET' && posts.push(request.url()));
      const plan = await api<{
        totals: {
          requests: number;
          storeDays: number;
          missingStoreDays: number;
          overFetchRatio: number;
          estimatedSeconds: number;
        };
      }>(`/api/plan?from=${SEED_FROM}&to=${SEED_TO}`);
      await page.click('#run');
      const dialog = page.locator('#confirm');
      await dialog.waitFor({ state: 'visible' });
      const t = plan.totals;
      expect(await page.locator('#confirm-window').innerText()).toBe(
        `Del ${SEED_FROM} al ${SEED_TO}, todas las tiendas (${config.stores.length}).`,
      );
      expect(await page.locator('#confirm-size').innerText()).toBe(
        [
          'Peticiones a KLK',
          int(t.requests),
          'Días-tienda pedidos',
          `${int(t.storeDays)} (para ${int(t.missingStoreDays)} faltantes o parciales, x${twoDecimals(t.overFetchRatio)})`,
          'Tiempo estimado',
          `${estimate(t.estimatedSeconds)} con el backfill en paralelo`,
        ].join('\n'),
      );
      expect(await page.locator('#confirm-cancel:focus').count()).toBe(1);
      expect(posts).toEqual([]);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await page.locator('#run-message', { hasText: /^Backfill cancelado/ }).waitFor();
      await page.click('#run');
      await dialog.waitFor({ state: 'visible' });
      await page.click('#confirm-cancel');
      await dialog.waitFor({ state: 'hidden' });
      // The dialog's `close` event comes a task after it hides.
      await page.locator('#run-message', { hasText: /^Backfill cancelado: no se envió nada\.$/ }).waitFor();
      expect(await page.locator('#run:focus').count()).toBe(1);
      expect(posts).toEqual([]);
      const { runs } = await api<{ runs: Array<{ kind: string }> }>('/api/runs');
      expect(runs.filter((r) => r.kind === 'backfill')).toEqual([]);
    },
    SLOW_MACHINE_MS,
  );

  it(
    'fills the holes after the confirmation with a live progressbar, and the other open pages update when the run ends',
    async () => {
      const page = await open(await newPage(DESKTOP));
      // Another tab of the same browser, which hears of the run only from this one: it does not poll.
      const otherTab = await newPage(DESKTOP, { context: page.context() });
      await otherTab.addInitScript('window.setInterval = () => 0;');
      await open(otherTab);
      // Another browser (no channel between them): its poll of /api/runs is driven by hand.
      const elsewhere = await newPage(DESKTOP);
      await elsewhere.clock.install();
      await open(elsewhere);
      await elsewhere.clock.pauseAt(Date.now() + 1_000);

      // Slow answers, so there is progress to see.
      sim.options.latencyMs = [150, 0];
      await page.click('#run');
      await page.click('#confirm-run');
      const bar = page.locator('#progress-bar');
      expect(await bar.getAttribute('role')).toBe('progressbar');
      const aria = async () => ({
        now: Number(await bar.getAttribute('aria-valuenow')),
        max: Number(await bar.getAttribute('aria-valuemax')),
        text: await bar.getAttribute('aria-valuetext'),
      });
      await expect
        .poll(
          async () => {
            const a = await aria();
            return a.now > 0 && a.now < a.max;
          },
          { timeout: 30_000, interval: 50 },
        )
        .toBe(true);
      const during = await aria();
      expect(await bar.getAttribute('aria-valuemin')).toBe('0');
      expect(during.text).toMatch(/^[\d.]+ de [\d.]+ días-tienda \(\d+ %\)$/);
      expect(await page.locator('#progress-text').innerText()).toMatch(/^[\d.]+ \/ [\d.]+ días-tienda · [\d.]+ líneas/);
      // Progress seen: the rest may go at full speed.
      sim.options.latencyMs = [0, 0];
      // The whole backfill runs in the server's process: on a busy machine (the rest of the suite beside it) it takes
      // a while, and the wait is for its end, however long.
      await page.locator('#run-message', { hasText: /^Backfill #\d+ completo/ }).waitFor({ timeout: 120_000 });
      await expect.poll(() => page.locator('.c.s-m, .c.s-p').count(), { timeout: 30_000 }).toBe(0);
      const done = await aria();
      expect(done.now).toBe(done.max);
      // Every expected day is now complete, or empty where KLK itself sold nothing that day.
      expect(await page.locator('.c.s-c, .c.s-e').count()).toBe(expected);
      expect(await page.locator('#run-message').innerText()).toMatch(
        new RegExp(`Faltantes ${missing} → 0, parciales ${partial} → 0\\.$`),
      );
      expect(await page.locator('#runs tbody tr').first().getAttribute('data-status')).toBe('complete');
      expect(await page.locator('#plan-summary').innerText()).toBe(
        'Nada que recuperar: ningún día esperado falta ni está parcial.',
      );
      expect(await page.locator('#run').isDisabled()).toBe(true);

      // The other tab followed the run and redrew when it ended.
      await expect.poll(() => otherTab.locator('.c.s-m, .c.s-p').count(), { timeout: 30_000 }).toBe(0);
      expect(await otherTab.locator('#runs tbody tr').first().getAttribute('data-status')).toBe('complete');
      expect(await otherTab.locator('#run-message').innerText()).toMatch(/^Backfill #\d+ completo/);
      // The other browser still shows the holes until its next poll, which notices the run and redraws.
      expect(await elsewhere.locator('.c.s-m').count()).toBe(missing);
      await elsewhere.clock.runFor(RUNS_POLL_MS);
      await expect.poll(() => elsewhere.locator('.c.s-m, .c.s-p').count(), { timeout: 30_000 }).toBe(0);
      expect(await elsewhere.locator('#runs tbody tr').first().getAttribute('data-status')).toBe('complete');
    },
    2 * SLOW_MACHINE_MS,
  );

  it(
    'cancels and resumes unfinished backfills from the history, asking before a cancel',
    async () => {
      // Two backfills nobody works on, each with one day of tienda_01 left (their process gone before a claim).
      const unfinished = async () =>
        db.transaction((tx) =>
          createBackfill(
            tx,
            {
              from: '2026-01-20',
              to: '2026-01-20',
              stores: ['tienda_01'],
              mirror: false,
              concurrency: 1,
              before: { expectedStoreDays: 1, missingStoreDays: 0, partialStoreDays: 0 },
            },
            [{ storeId: 'tienda_01', dayFrom: '2026-01-20', dayTo: '2026-01-20' }],
          ),
        );
      const toCancel = await unfinished();
      const toResume = await unfinished();
      const page = await open(await newPage(DESKTOP));
      const row = (id: number) => page.locator(`#runs tbody tr[data-kind="backfill"][data-id="${id}"]`);
      await row(toResume).waitFor();
      for (const id of [toCancel, toResume]) {
        expect(await row(id).locator('button[data-action="resume"]').innerText()).toBe('Reanudar');
        expect(await row(id).locator('button[data-action="cancel"]').innerText()).toBe('Cancelar');
      }

      // A cancel is asked first: declined, nothing is sent; accepted, the run is cancelled for good.
      page.once('dialog', (dialog) => void dialog.dismiss());
      await row(toCancel).locator('button[data-action="cancel"]').click();
      expect((await api<{ status: string }>(`/api/runs/${toCancel}`)).status).not.toBe('cancelled');
      page.once('dialog', (dialog) => void dialog.accept());
      await row(toCancel).locator('button[data-action="cancel"]').click();
      await expect.poll(() => row(toCancel).getAttribute('data-status'), { timeout: 15_000 }).toBe('cancelled');
      expect(await row(toCancel).locator('button').count()).toBe(0);
      expect(await page.locator('#run-message').innerText()).toBe(
        `Ejecución ${toCancel} cancelada: lo pendiente ya no se ejecutará.`,
      );

      await row(toResume).locator('button[data-action="resume"]').click();
      await page
        .locator('#run-message', { hasText: new RegExp(`^Backfill #${toResume} completo`) })
        .waitFor({ timeout: 45_000 });
      expect((await api<{ status: string }>(`/api/runs/${toResume}`)).status).toBe('complete');
      await expect.poll(() => row(toResume).getAttribute('data-status'), { timeout: 15_000 }).toBe('complete');
    },
    SLOW_MACHINE_MS,
  );

  it(
    'with VENTAS_API_TOKEN set, asks for the token once, shows nothing before it, and keeps it out of scripts',
    async () => {
      const guarded = await startDashboard({
        db,
        config,
        klkUrl: sim.url,
        logger: silentLogger,
        host: '127.0.0.1',
        port: 0,
        token: 'secreto-e2e',
        window: { from: SEED_FROM, to: SEED_TO },
      });
      const page = await newPage(DESKTOP);
      try {
        // The page's own 401s are expected here; they are not errors of the page.
        const before = pageErrors.length;
        await page.goto(`${guarded.url}/`);
        await page.locator('#login').waitFor();
        expect(await page.locator('.c').count()).toBe(0);
        await page.fill('#login-token', 'otro');
        await page.click('#login button[type="submit"]');
        await page.locator('#login-message', { hasText: 'token incorrecto' }).waitFor();
        await page.fill('#login-token', 'secreto-e2e');
        await page.click('#login button[type="submit"]');
        await page.locator('#login').waitFor({ state: 'hidden' });
        await expect.poll(() => page.locator('.c').count(), { timeout: 30_000 }).toBeGreaterThan(0);
        await page.locator('#runs tbody tr').first().waitFor();
        const cookies = await page.context().cookies(guarded.url);
        expect(cookies.find((c) => c.name === 'ventas_token')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
        expect(await page.evaluate('document.cookie')).not.toContain('secreto-e2e');
        pageErrors.splice(before);
      } finally {
        // Its page first: a poll must not meet a server that is gone (the browser reports a refused connection).
        await page.context().close();
        await guarded.close();
      }
    },
    SLOW_MACHINE_MS,
  );

  it(
    'draws a year of 19 stores through the filters, scrolling inside its card on a phone',
    async () => {
      const page = await open(await newPage(DESKTOP));
      await page.fill('#from', '2025-01-26');
      await page.click('#filters button[type="submit"]');
      await expect.poll(() => page.locator('.c').count(), { timeout: 30_000 }).toBe(config.stores.length * 365);
      expect(page.url()).toContain('from=2025-01-26&to=2026-01-25');
      await expectNoSidewaysScroll(page);
      expect((await axisLabels(page)).filter((l) => l.cut)).toEqual([]);

      const phone = await open(await newPage(PHONE, { touch: true }), '?from=2025-01-26&to=2026-01-25');
      expect(await phone.locator('.c').count()).toBe(config.stores.length * 365);
      await expectNoSidewaysScroll(phone);
    },
    SLOW_MACHINE_MS,
  );
});
