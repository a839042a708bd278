import Holidays from 'date-holidays';
import { isClosedDay } from '../catalogue/calendar.ts';
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES, type Store } from '../catalogue/stores.ts';
import { now as clockNow } from '../shared/clock.ts';
import { addDays, daysBetween, eachDay, localDateTime, weekday, type IsoDate } from '../shared/dates.ts';
import { ByteWriter, fragment } from './bytes.ts';
import { combine, hashString, unit } from './hash.ts';
import { PRODUCT_COUNT, productCatalogue, type Product } from './products.ts';

/**
 * The simulated KLK world, pure: a line's content depends only on (seed, sucursal, date, invoice, line), and every
 * store-day is generated on its own from hashes of its coordinates.
 */
export interface SimWorld {
  seed: number;
  /** Multiplies the lines per store-day (1: about 6,000-16,000; 0.01: about 60-160). */
  scale: number;
  /** The store catalogue; default DEFAULT_STORES. */
  stores?: readonly Store[];
  /** Chain-wide closed days (`MM-DD` or `YYYY-MM-DD`); default DEFAULT_CLOSED_DAYS. */
  closedDays?: readonly string[];
  /** Share of invoices voided after the fact: they vanish from answers and truth alike. Default 0. */
  voidRate?: number;
  /** The sim clock: lines stamped later (store local time) do not exist yet. Default the real clock. */
  now?: Date;
}

/** What a KLK request selects inside each day. */
export interface LineFilter {
  /** Time-of-day window applied to each date, `HH:MM` (= `HH:MM:00`) or `HH:MM:SS`, both ends inclusive. */
  horaDesde?: string;
  horaHasta?: string;
  /** Warehouse code; absent or empty: every warehouse. */
  almacen?: string;
  codArticulo?: string;
}

/** One invoice line, exactly as KLK sends it. */
export interface KlkLine {
  numero_factura: string;
  linea: number;
  fecha: string;
  hora: string;
  fecha_hora_completa: string;
  producto: [
    {
      codigo_producto: string;
      descripcion_producto: string;
      marca_producto: string;
      modelo_producto: string;
      categoria_producto: string;
      grupo_articulo: string;
      subgrupo_producto: string;
      categoria_nombre: string;
      codigo_barras: string;
      serial: string;
      imei: string;
    },
  ];
  cantidad: [
    {
      codigo_almacen: string;
      nombre_almacen: string;
      cantidad_vendida: number;
      peso_unitario: number;
      peso_bruto: number;
      volumen_unitario: number;
      unidad_medida_venta: string;
      factor_unidad_medida: number;
      total_cantidad_por_unidad_medida: number;
      peso_calculado: number;
    },
  ];
  financiero: [
    {
      costo_unitario_bs: number;
      costo_unitario_usd: number;
      precio_unitario_bs: number;
      precio_unitario_usd: number;
      impuesto_porcentaje: number;
      impuesto_monto: number;
      porcentaje_descuento: number;
      monto_descuento: number;
      porcentaje_descuento_fidelizacion: number;
      monto_descuento_fidelizacion: number;
      porcentaje_descuento_forma_pago: number;
      monto_descuento_forma_pago: number;
      venta_total_bs: number;
      venta_total_usd: number;
      costo_total_bs: number;
      costo_total_usd: number;
      utilidad_bruta_bs: number;
      utilidad_bruta_usd: number;
    },
  ];
  total_factura: number;
  tasa_usd: number;
  es_no_fiscal: boolean;
  tiene_promocion: boolean;
  codigo_promocion: string;
}

/** The truth of one store-day: distinct lines and the sum of their `venta_total_usd` (4 decimals). */
export interface TruthDay {
  fecha: IsoDate;
  lineas: number;
  venta_total_usd: number;
}

/** Name of the sales-floor warehouse (its code is the store's `almacen`). */
export const SALES_FLOOR_NAME = 'PISO DE VENTA';
/** Name of the second warehouse that also sells (about 3 % of lines). */
export const SECOND_WAREHOUSE_NAME = 'ALMACEN PRINCIPAL';
const SECOND_WAREHOUSE_SHARE = 0.03;

/** Code of a store's second warehouse. */
export function secondWarehouse(almacen: string): string {
  return `${almacen}-PPF`;
}

// ---------------------------------------------------------------------------------------------- store-day volume

const EPOCH: IsoDate = '2020-01-01';
/** Bs per USD on the reference day, in hundredths: 236.46. */
const REFERENCE_RATE_C = 23_646;
const REFERENCE_DAY: IsoDate = '2026-01-12';
/** Sunday .. Saturday. */
const WEEKDAY_FACTOR = [0.72, 0.97, 0.95, 0.97, 1, 1.04, 1.06];
const DECEMBER_FACTOR = 1.25;
const HOLIDAY_EVE_FACTOR = 1.3;
const HOLIDAY_FACTOR = 0.85;

let holidayCalendar: Holidays | undefined;
const publicHolidaysByYear = new Map<number, Set<IsoDate>>();

function isPublicHoliday(date: IsoDate): boolean {
  const year = Number(date.slice(0, 4));
  let days = publicHolidaysByYear.get(year);
  if (!days) {
    holidayCalendar ??= new Holidays('VE');
    days = new Set(
      holidayCalendar
        .getHolidays(year)
        .filter((h) => h.type === 'public')
        .map((h) => h.date.slice(0, 10)),
    );
    publicHolidaysByYear.set(year, days);
  }
  return days.has(date);
}

/** Usual lines of an ordinary weekday at scale 1, by store size: stable per sucursal whatever the seed. */
export function storeBaseLines(sucursal: string): number {
  if (sucursal === 'SUC012') return 15_000; // FLOR AMARILLO, one of the biggest
  return 7_000 + Math.round(7_000 * unit(hashString(sucursal), 1));
}

function dayHash(seed: number, sucursal: string, date: IsoDate): number {
  return combine(combine(combine(0x6b6c6b, seed), hashString(sucursal)), daysBetween(EPOCH, date));
}

/** Bs per USD of a day, hundredths: about 236.46 in January 2026, drifting up with time, the same in every store. */
export function exchangeRateC(seed: number, date: IsoDate): number {
  const drift = Math.max(0.2, 1 + 0.0008 * daysBetween(REFERENCE_DAY, date));
  const noise = 1 + 0.006 * (unit(combine(seed, daysBetween(EPOCH, date)), 77) - 0.5);
  return Math.round(REFERENCE_RATE_C * drift * noise);
}

function storeIsClosed(world: SimWorld, store: Store, date: IsoDate): boolean {
  return isClosedDay(store, date, world.closedDays ?? DEFAULT_CLOSED_DAYS);
}

/** Lines a store-day has before voids and whatever the clock: 0 on closed days and outside the store's life. */
export function plannedLines(world: SimWorld, store: Store, date: IsoDate): number {
  if (storeIsClosed(world, store, date)) return 0;
  let factor = WEEKDAY_FACTOR[weekday(date)]!;
  if (date.slice(5, 7) === '12') factor *= DECEMBER_FACTOR;
  if (isPublicHoliday(date)) factor *= HOLIDAY_FACTOR;
  if (isPublicHoliday(addDays(date, 1))) factor *= HOLIDAY_EVE_FACTOR;
  factor *= 0.97 + 0.06 * unit(dayHash(world.seed, store.sucursal, date), 1);
  return Math.round(storeBaseLines(store.sucursal) * factor * world.scale);
}

// ---------------------------------------------------------------------------------------------- opening hours

/** Customers per hour of the day (local), relative. */
const HOURLY_TRAFFIC = [
  0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.4, 0.6, 0.8, 1, 1.1, 1.3, 1.4, 1.2, 1, 1, 1.1, 1.4, 1.5, 1.3, 0.9, 0.6, 0.4, 0.3,
];

interface Segment {
  start: number;
  end: number;
  /** Traffic before this segment. */
  before: number;
  weight: number;
}

interface TrafficProfile {
  segments: Segment[];
  total: number;
  closeSec: number;
}

const profiles = new Map<string, TrafficProfile>();

function clockSeconds(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 3600 + Number(hhmm.slice(3, 5)) * 60;
}

function trafficProfile(opens: string, closes: string): TrafficProfile {
  const key = `${opens}-${closes}`;
  let profile = profiles.get(key);
  if (!profile) {
    const openSec = clockSeconds(opens);
    let closeSec = clockSeconds(closes);
    if (closeSec <= openSec) closeSec = 86_400; // `00:00` is midnight
    const segments: Segment[] = [];
    let total = 0;
    for (let hour = Math.floor(openSec / 3600); hour * 3600 < closeSec; hour++) {
      const start = Math.max(openSec, hour * 3600);
      const end = Math.min(closeSec, (hour + 1) * 3600);
      const weight = HOURLY_TRAFFIC[hour]! * (end - start);
      segments.push({ start, end, before: total, weight });
      total += weight;
    }
    profile = { segments, total, closeSec };
    profiles.set(key, profile);
  }
  return profile;
}

/** The second of the day at which a share `u` of the day's customers has been served. */
function secondAt(profile: TrafficProfile, u: number): number {
  const target = u * profile.total;
  for (const s of profile.segments) {
    if (target < s.before + s.weight) {
      return Math.min(profile.closeSec - 1, Math.floor(s.start + ((target - s.before) / s.weight) * (s.end - s.start)));
    }
  }
  return profile.closeSec - 1;
}

// ---------------------------------------------------------------------------------------------- invoices and lines

export interface Invoice {
  hash: number;
  /** Position in the day, 0-based; numbers the invoice. */
  index: number;
  /** Local second of the day (fractions apart). */
  timeSec: number;
  lineCount: number;
}

interface LineValues {
  linea: number;
  hash: number;
  product: Product;
  inSecondWarehouse: boolean;
  qtyM: number;
  precioBsC: number;
  precioUsd4: number;
  costBsC: number;
  montoDescC: number;
  montoFidC: number;
  ventaBsC: number;
  ventaUsd4: number;
  impuestoC: number;
  costoTotalBsC: number;
  costoTotalUsd4: number;
}

interface InvoiceValues {
  /** `{"numero_factura":"...","linea":` */
  head: Buffer;
  /** From `,"fecha":` to the comma before `"producto"`. */
  middle: Buffer;
  /** From `,"total_factura":` to the closing brace. */
  tail: Buffer;
  discPct: number;
  fidPct: number;
  lines: LineValues[];
}

/** A request's selection inside each day, compiled. */
export interface DayQuery {
  fromSec: number;
  toSec: number;
  almacen?: string;
  codArticulo?: string;
  voidRate: number;
  now: Date;
}

const MAX_INVOICE_LINES = 15;

/** Invoice numbers leave room for this many invoices a day at scale 1. */
const SEQUENCE_STRIDE = 10_000;

function invoiceLineCount(hash: number): number {
  return 1 + Math.floor((MAX_INVOICE_LINES - 1) * unit(hash, 2) ** 1.6);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function clockText(sec: number): string {
  return `${pad2(Math.floor(sec / 3600))}:${pad2(Math.floor(sec / 60) % 60)}:${pad2(sec % 60)}`;
}

/** `HH:MM` or `HH:MM:SS` as a second of the day, or null when malformed. */
export function parseClock(text: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

const c2 = (v: number) => String(v / 100);

// The constant pieces of a line, between its values.
const PESO_CALCULADO = fragment(',"peso_calculado":');
const F = {
  costoUnitarioBs: fragment('}],"financiero":[{"costo_unitario_bs":'),
  costoUnitarioUsd: fragment(',"costo_unitario_usd":'),
  precioUnitarioBs: fragment(',"precio_unitario_bs":'),
  precioUnitarioUsd: fragment(',"precio_unitario_usd":'),
  untaxed: fragment(',"impuesto_porcentaje":0,"impuesto_monto":0'),
  impuestoPorcentaje: fragment(',"impuesto_porcentaje":'),
  impuestoMonto: fragment(',"impuesto_monto":'),
  // Most lines have no discount: their zeros in one piece.
  undiscounted: fragment(
    ',"porcentaje_descuento":0,"monto_descuento":0,"porcentaje_descuento_fidelizacion":0' +
      ',"monto_descuento_fidelizacion":0,"porcentaje_descuento_forma_pago":0,"monto_descuento_forma_pago":0' +
      ',"venta_total_bs":',
  ),
  porcentajeDescuento: fragment(',"porcentaje_descuento":'),
  montoDescuento: fragment(',"monto_descuento":'),
  porcentajeFidelizacion: fragment(',"porcentaje_descuento_fidelizacion":'),
  montoFidelizacion: fragment(',"monto_descuento_fidelizacion":'),
  ventaTotalBs: fragment(',"porcentaje_descuento_forma_pago":0,"monto_descuento_forma_pago":0,"venta_total_bs":'),
  ventaTotalUsd: fragment(',"venta_total_usd":'),
  costoTotalBs: fragment(',"costo_total_bs":'),
  costoTotalUsd: fragment(',"costo_total_usd":'),
  utilidadBs: fragment(',"utilidad_bruta_bs":'),
  utilidadUsd: fragment(',"utilidad_bruta_usd":'),
  close: fragment('}]'),
};

/** One store-day of the simulated world: its invoices, their lines, their JSON. */
export class StoreDay {
  readonly invoices: Invoice[] = [];
  private readonly hash: number;
  private readonly dayNumber: number;
  private readonly products: Product[];
  private readonly rateC: number;
  private readonly rateText: string;
  private readonly salesFloorJson: Buffer;
  private readonly secondJson: Buffer;
  private readonly secondCode: string;
  private readonly sequenceBase: number;
  /** Lines stamped after this local second do not exist yet (-1: none of the day; 86400: all). */
  private cutoffSec = 86_400;

  constructor(
    private readonly world: SimWorld,
    readonly store: Store,
    readonly date: IsoDate,
  ) {
    this.hash = dayHash(world.seed, store.sucursal, date);
    this.dayNumber = daysBetween(EPOCH, date);
    this.products = productCatalogue(world.seed);
    this.rateC = exchangeRateC(world.seed, date);
    this.rateText = c2(this.rateC);
    this.secondCode = secondWarehouse(store.almacen);
    const warehouseJson = (code: string, name: string) =>
      fragment(`"cantidad":[{"codigo_almacen":${JSON.stringify(code)},"nombre_almacen":"${name}","cantidad_vendida":`);
    this.salesFloorJson = warehouseJson(store.almacen, SALES_FLOOR_NAME);
    this.secondJson = warehouseJson(this.secondCode, SECOND_WAREHOUSE_NAME);
    const stride = SEQUENCE_STRIDE * Math.max(1, Math.ceil(world.scale));
    this.sequenceBase = this.dayNumber * stride;
    const target = plannedLines(world, store, date);
    let lines = 0;
    for (let index = 0; lines < target; index++) {
      const hash = combine(this.hash, index);
      const lineCount = invoiceLineCount(hash);
      this.invoices.push({ hash, index, timeSec: 0, lineCount });
      lines += lineCount;
    }
    // Invoices follow each other through the opening hours, denser at the busy hours; numbers grow with time.
    const profile = trafficProfile(store.opens, store.closes);
    const count = this.invoices.length;
    for (const inv of this.invoices) {
      const u = (inv.index + 0.5 + 0.9 * (unit(inv.hash, 3) - 0.5)) / count;
      inv.timeSec = secondAt(profile, u);
    }
  }

  /** Applies the sim clock, given as the store's local `YYYY-MM-DD HH:MM:SS`: call before selecting. */
  setClock(nowLocal: string): this {
    const today = nowLocal.slice(0, 10);
    if (this.date < today) this.cutoffSec = 86_400;
    else if (this.date > today) this.cutoffSec = -1;
    else this.cutoffSec = parseClock(nowLocal.slice(11, 19)) ?? 86_400;
    return this;
  }

  /** Whether the invoice is in the answer: not voided, inside the hour window, already stamped. */
  invoiceVisible(inv: Invoice, query: DayQuery): boolean {
    return (
      inv.timeSec >= query.fromSec &&
      inv.timeSec <= query.toSec &&
      inv.timeSec <= this.cutoffSec &&
      !(query.voidRate > 0 && unit(inv.hash, 4) < query.voidRate)
    );
  }

  lineHash(inv: Invoice, linea: number): number {
    return combine(inv.hash, linea);
  }

  private productOf(lineHash: number): Product {
    // Squared: the first products of the catalogue are the popular ones.
    return this.products[Math.floor(PRODUCT_COUNT * unit(lineHash, 1) ** 2)]!;
  }

  private inSecondWarehouse(lineHash: number): boolean {
    return unit(lineHash, 2) < SECOND_WAREHOUSE_SHARE;
  }

  /** Whether a line passes the warehouse and product filters (cheap: no amounts computed). */
  lineSelected(lineHash: number, query: DayQuery): boolean {
    if (query.almacen && query.almacen !== (this.inSecondWarehouse(lineHash) ? this.secondCode : this.store.almacen)) {
      return false;
    }
    return !query.codArticulo || query.codArticulo === this.productOf(lineHash).code;
  }

  /** Every line of an invoice with its amounts (the invoice total needs them all). */
  invoiceValues(inv: Invoice): InvoiceValues {
    const h = inv.hash;
    // Register and sequence ignore the store: invoice numbers repeat across stores, as in KLK.
    const register = 1 + (combine(combine(this.world.seed, this.dayNumber), inv.index) % 12);
    const sequence = String(this.sequenceBase + inv.index + 1).padStart(8, '0');
    const promo = unit(h, 5) < 0.08;
    const discPct = promo ? (unit(h, 6) < 0.5 ? 5 : 10) : 0;
    const fidPct = unit(h, 7) < 0.04 ? 2 : 0;
    const rateC = this.rateC;
    const lines: LineValues[] = [];
    let totalC = 0;
    for (let linea = 1; linea <= inv.lineCount; linea++) {
      const lh = combine(h, linea);
      const product = this.productOf(lh);
      const qtyM = quantityM(product, lh);
      const precioBsC = Math.round((product.priceUsd4 * rateC) / 10_000);
      const grossC = Math.round((precioBsC * qtyM) / 1000);
      const montoDescC = Math.round((grossC * discPct) / 100);
      const montoFidC = Math.round(((grossC - montoDescC) * fidPct) / 100);
      const ventaBsC = grossC - montoDescC - montoFidC;
      const costBsC = Math.round((product.costUsd4 * rateC * product.costRatePct) / 1_000_000);
      const impuestoC = Math.round((ventaBsC * product.taxPct) / 100);
      totalC += ventaBsC + impuestoC;
      lines.push({
        linea,
        hash: lh,
        product,
        inSecondWarehouse: this.inSecondWarehouse(lh),
        qtyM,
        precioBsC,
        precioUsd4: Math.round((precioBsC * 10_000) / rateC),
        costBsC,
        montoDescC,
        montoFidC,
        ventaBsC,
        ventaUsd4: Math.round((ventaBsC * 10_000) / rateC),
        impuestoC,
        costoTotalBsC: Math.round((costBsC * qtyM) / 1000),
        costoTotalUsd4: Math.round((product.costUsd4 * qtyM) / 1000),
      });
    }
    const fraction = String(combine(h, 8) % 10_000_000).padStart(7, '0');
    const clock = clockText(inv.timeSec);
    const code = promo ? `"PROMO-${String(1 + (combine(h, 9) % 40)).padStart(3, '0')}"` : '""';
    return {
      head: fragment(`{"numero_factura":"C${pad2(register)}-01-${sequence}","linea":`),
      middle: fragment(
        `,"fecha":"${this.date}","hora":"${clock}.${fraction}","fecha_hora_completa":"${this.date}T${clock}",`,
      ),
      tail: fragment(
        `,"total_factura":${c2(totalC)},"tasa_usd":${this.rateText},"es_no_fiscal":${unit(h, 10) < 0.02}` +
          `,"tiene_promocion":${promo},"codigo_promocion":${code}}`,
      ),
      discPct,
      fidPct,
      lines,
    };
  }

  /** Writes a line's JSON: the precomputed fragments and the line's numbers. */
  writeLine(w: ByteWriter, inv: InvoiceValues, line: LineValues): void {
    const p = line.product;
    w.bytes(inv.head);
    w.uint(line.linea);
    w.bytes(inv.middle);
    w.bytes(p.productoJson);
    w.bytes(line.inSecondWarehouse ? this.secondJson : this.salesFloorJson);
    w.fixed(line.qtyM, 3, 1000);
    w.bytes(p.quantityJson);
    w.fixed(line.qtyM * p.factor, 3, 1000);
    w.bytes(PESO_CALCULADO);
    w.fixed(Math.round((p.weightM * line.qtyM) / 100), 4, 10_000);
    w.bytes(F.costoUnitarioBs);
    w.fixed(line.costBsC, 2, 100);
    w.bytes(F.costoUnitarioUsd);
    w.fixed(p.costUsd4, 4, 10_000);
    w.bytes(F.precioUnitarioBs);
    w.fixed(line.precioBsC, 2, 100);
    w.bytes(F.precioUnitarioUsd);
    w.fixed(line.precioUsd4, 4, 10_000);
    if (p.taxPct === 0) w.bytes(F.untaxed);
    else {
      w.bytes(F.impuestoPorcentaje);
      w.uint(p.taxPct);
      w.bytes(F.impuestoMonto);
      w.fixed(line.impuestoC, 2, 100);
    }
    if (inv.discPct === 0 && inv.fidPct === 0) w.bytes(F.undiscounted);
    else {
      w.bytes(F.porcentajeDescuento);
      w.uint(inv.discPct);
      w.bytes(F.montoDescuento);
      w.fixed(line.montoDescC, 2, 100);
      w.bytes(F.porcentajeFidelizacion);
      w.uint(inv.fidPct);
      w.bytes(F.montoFidelizacion);
      w.fixed(line.montoFidC, 2, 100);
      w.bytes(F.ventaTotalBs);
    }
    w.fixed(line.ventaBsC, 2, 100);
    w.bytes(F.ventaTotalUsd);
    w.fixed(line.ventaUsd4, 4, 10_000);
    w.bytes(F.costoTotalBs);
    w.fixed(line.costoTotalBsC, 2, 100);
    w.bytes(F.costoTotalUsd);
    w.fixed(line.costoTotalUsd4, 4, 10_000);
    w.bytes(F.utilidadBs);
    w.fixed(line.ventaBsC - line.costoTotalBsC, 2, 100);
    w.bytes(F.utilidadUsd);
    w.fixed(line.ventaUsd4 - line.costoTotalUsd4, 4, 10_000);
    w.bytes(F.close);
    w.bytes(inv.tail);
  }

  /** Visits every selected line of the day in answer order. */
  forEachLine(query: DayQuery, visit: (inv: InvoiceValues, line: LineValues) => void): void {
    for (const inv of this.invoices) {
      if (!this.invoiceVisible(inv, query)) continue;
      const values = this.invoiceValues(inv);
      for (const line of values.lines) if (this.lineSelected(line.hash, query)) visit(values, line);
    }
  }
}

/** Units sold, thousandths: grams for weighed goods. */
function quantityM(product: Product, lineHash: number): number {
  const u = unit(lineHash, 3);
  if (product.weighed) return 150 + 5 * Math.floor(u * 471); // 0.150 to 2.500 kg
  if (product.factor > 1) return u < 0.85 ? 1000 : 2000;
  return (u < 0.68 ? 1 : u < 0.88 ? 2 : u < 0.94 ? 3 : u < 0.97 ? 4 : 6) * 1000;
}

// ---------------------------------------------------------------------------------------------- pure helpers

const storeIndexes = new WeakMap<readonly Store[], Map<string, Store>>();

/** The store behind a KLK sucursal code, or undefined. */
export function storeBySucursal(world: SimWorld, sucursal: string): Store | undefined {
  const stores = world.stores ?? DEFAULT_STORES;
  let index = storeIndexes.get(stores);
  if (!index) {
    index = new Map(stores.map((s) => [s.sucursal, s]));
    storeIndexes.set(stores, index);
  }
  return index.get(sucursal);
}

function requireStore(world: SimWorld, sucursal: string): Store {
  const store = storeBySucursal(world, sucursal);
  if (!store) throw new Error(`sucursal desconocida: ${sucursal}`);
  return store;
}

/** Compiles a filter; throws on a malformed hour. */
export function dayQuery(world: SimWorld, filter: LineFilter = {}, now: Date = world.now ?? clockNow()): DayQuery {
  const fromSec = parseClock(filter.horaDesde ?? '00:00:00');
  const toSec = parseClock(filter.horaHasta ?? '23:59:59');
  if (fromSec === null || toSec === null) throw new Error('hora inválida, se espera HH:MM o HH:MM:SS');
  return {
    fromSec,
    toSec,
    almacen: filter.almacen || undefined,
    codArticulo: filter.codArticulo || undefined,
    voidRate: world.voidRate ?? 0,
    now,
  };
}

/** The lines KLK answers for one store-day (without duplicates), as parsed JSON. */
export function generateDay(world: SimWorld, sucursal: string, date: IsoDate, filter: LineFilter = {}): KlkLine[] {
  const query = dayQuery(world, filter);
  const store = requireStore(world, sucursal);
  const day = new StoreDay(world, store, date).setClock(localDateTime(store.timeZone, query.now));
  const lines: KlkLine[] = [];
  const writer = new ByteWriter(64 * 1024);
  day.forEachLine(query, (inv, line) => {
    day.writeLine(writer, inv, line);
    lines.push(JSON.parse(writer.take().toString('utf8')) as KlkLine);
  });
  return lines;
}

/** The truth per day of a date range: distinct lines and their USD total, as `/__sim/days` reports it. */
export function truthDays(
  world: SimWorld,
  sucursal: string,
  desde: IsoDate,
  hasta: IsoDate,
  almacen?: string,
): TruthDay[] {
  const store = requireStore(world, sucursal);
  const query = dayQuery(world, { almacen });
  const nowLocal = localDateTime(store.timeZone, query.now);
  return eachDay(desde, hasta).map((fecha) => {
    const day = new StoreDay(world, store, fecha).setClock(nowLocal);
    let lineas = 0;
    let usd4 = 0; // integer ten-thousandths: the sum is exact
    day.forEachLine(query, (_inv, line) => {
      lineas++;
      usd4 += line.ventaUsd4;
    });
    return { fecha, lineas, venta_total_usd: usd4 / 10_000 };
  });
}
