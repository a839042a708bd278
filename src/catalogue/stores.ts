import type { IsoDate } from '../shared/dates.ts';

/** A store as KLK and the `ventas` table know it. */
export interface Store {
  /** `ubicacion_id` in `ventas`, e.g. `tienda_01`. */
  id: string;
  name: string;
  /** KLK branch code, e.g. `SUC001`. */
  sucursal: string;
  /** The sales-floor warehouse: only its lines are the store's sales. */
  almacen: string;
  timeZone: string;
  /** Opening hours, local `HH:MM`; `closes` of `00:00` means midnight. */
  opens: string;
  closes: string;
  /** First and last day of the store's life; days outside it are `closed`. */
  openedOn?: IsoDate;
  closedOn?: IsoDate;
  /** Closures of this store only: `YYYY-MM-DD`, or `MM-DD` for every year. */
  closedDays: string[];
}

const CARACAS = 'America/Caracas';

function store(id: string, name: string, sucursal: string, almacen: string, extra: Partial<Store> = {}): Store {
  return { id, name, sucursal, almacen, timeZone: CARACAS, opens: '07:00', closes: '21:00', closedDays: [], ...extra };
}

/** The chain's catalogue (all on KLK since 2026-01-26). There is no tienda_14. */
export const DEFAULT_STORES: readonly Store[] = [
  store('tienda_01', 'PERIFERICO', 'SUC001', 'APP-TPF'),
  store('tienda_02', 'AV. BOLIVAR', 'SUC007', 'TAVBOL'),
  store('tienda_03', 'MAÑONGO', 'SUC008', 'TTMAN'),
  store('tienda_04', 'SAN DIEGO', 'SUC014', 'TSDGO'),
  store('tienda_05', 'VIVIENDA', 'SUC018', 'TVDAS'),
  store('tienda_06', 'NAGUANAGUA', 'SUC017', 'TNGN01'),
  store('tienda_07', 'CENTRO', 'SUC013', 'TCTO'),
  store('tienda_08', 'BOSQUE', 'SUC002', 'APP-TBQ', { opens: '08:00', closes: '00:00' }),
  store('tienda_09', 'GUACARA', 'SUC015', 'TGUAC'),
  store('tienda_10', 'FERIAS', 'SUC009', 'TFER'),
  store('tienda_11', 'FLOR AMARILLO', 'SUC012', 'TFAMA'),
  store('tienda_12', 'PARAPARAL', 'SUC016', 'TPPRAL'),
  store('tienda_13', 'PARAMACAY', 'SUC019', 'TPMCY'),
  store('tienda_15', 'ISABELICA', 'SUC006', 'TTISBC'),
  store('tienda_16', 'TOCUYITO', 'SUC010', 'TTCYTO'),
  store('tienda_17', 'ARTIGAS', 'SUC003', 'TANT'),
  store('tienda_18', 'PARAISO', 'SUC004', 'TPAR', { openedOn: '2025-12-06' }),
  store('tienda_19', 'GUIGUE', 'SUC011', 'TGGE'),
  store('tienda_20', 'TAZAJAL', 'SUC005', 'TTZ'),
];

/** Chain-wide closures: 25 December and 1 January every year. */
export const DEFAULT_CLOSED_DAYS: readonly string[] = ['12-25', '01-01'];
