import { fragment } from './bytes.ts';
import { combine, unit } from './hash.ts';

/**
 * The simulated product catalogue: fixed per seed. Each product carries its JSON fragments ready-made, so rendering
 * a line is mostly string concatenation.
 */
export interface Product {
  code: string;
  unitOfMeasure: 'UNIDAD' | 'KG' | 'PAQUETE';
  /** Sold by weight: fractional quantities. */
  weighed: boolean;
  /** Units per sale unit (a pack of 12 is 12). */
  factor: number;
  /** Shelf price net of tax, USD ten-thousandths. */
  priceUsd4: number;
  /** Replacement cost, USD ten-thousandths; it can exceed the price (a negative USD margin). */
  costUsd4: number;
  /** The Bs cost was booked at an older exchange rate: this share (per cent) of the day's rate. */
  costRatePct: number;
  taxPct: 0 | 16;
  /** Weight of one unit, kg thousandths. */
  weightM: number;
  /** `"producto":[{...}],` as UTF-8 */
  productoJson: Buffer;
  /** From `,"peso_unitario":` up to `"total_cantidad_por_unidad_medida":` (inclusive). */
  quantityJson: Buffer;
}

interface Category {
  code: string;
  name: string;
  taxed: boolean;
  weighed: boolean;
  /** Price range, USD per unit (per kg when weighed). */
  price: [number, number];
  groups: Array<[group: string, nouns: string[]]>;
}

const CATEGORIES: Category[] = [
  {
    code: '01',
    name: 'VIVERES',
    taxed: false,
    weighed: false,
    price: [0.8, 4.5],
    groups: [
      ['HARINAS', ['HARINA DE MAIZ', 'HARINA DE TRIGO', 'AVENA EN HOJUELAS']],
      ['GRANOS', ['ARROZ', 'CARAOTAS NEGRAS', 'LENTEJAS', 'ARVEJAS']],
      ['PASTAS', ['PASTA LARGA', 'PASTA CORTA']],
      ['ACEITES', ['ACEITE VEGETAL', 'ACEITE DE OLIVA']],
      ['ENDULZANTES', ['AZUCAR REFINADA', 'PAPELON']],
      ['CAFE', ['CAFE MOLIDO', 'CAFE EN GRANO']],
      ['SALSAS', ['SALSA DE TOMATE', 'MAYONESA', 'MOSTAZA']],
    ],
  },
  {
    code: '02',
    name: 'CHARCUTERIA',
    taxed: false,
    weighed: true,
    price: [4.5, 14],
    groups: [
      ['EMBUTIDOS', ['JAMON DE PIERNA', 'MORTADELA', 'SALCHICHON']],
      ['QUESOS', ['QUESO BLANCO DURO', 'QUESO AMARILLO', 'QUESO DE MANO']],
    ],
  },
  {
    code: '03',
    name: 'CARNICERIA',
    taxed: false,
    weighed: true,
    price: [3.5, 9.5],
    groups: [
      ['RES', ['CARNE MOLIDA', 'BISTEC DE RES', 'COSTILLA DE RES']],
      ['AVES', ['POLLO ENTERO', 'MUSLO DE POLLO', 'PECHUGA DE POLLO']],
      ['CERDO', ['CHULETA DE CERDO', 'PERNIL']],
    ],
  },
  {
    code: '04',
    name: 'FRUVER',
    taxed: false,
    weighed: true,
    price: [0.6, 3.5],
    groups: [
      ['HORTALIZAS', ['TOMATE', 'CEBOLLA', 'PAPA', 'PIMENTON', 'ZANAHORIA']],
      ['FRUTAS', ['CAMBUR', 'AGUACATE', 'NARANJA', 'LECHOSA', 'MANGO']],
    ],
  },
  {
    code: '05',
    name: 'LACTEOS',
    taxed: true,
    weighed: false,
    price: [1, 6.5],
    groups: [
      ['LECHES', ['LECHE COMPLETA', 'LECHE EN POLVO']],
      ['DERIVADOS', ['YOGURT', 'MANTEQUILLA', 'NATA']],
    ],
  },
  {
    code: '06',
    name: 'BEBIDAS',
    taxed: true,
    weighed: false,
    price: [0.6, 3.2],
    groups: [
      ['REFRESCOS', ['REFRESCO COLA', 'REFRESCO NARANJA', 'MALTA']],
      ['AGUAS Y JUGOS', ['AGUA MINERAL', 'JUGO DE NARANJA', 'JUGO DE DURAZNO']],
    ],
  },
  {
    code: '07',
    name: 'LIMPIEZA',
    taxed: true,
    weighed: false,
    price: [1, 8],
    groups: [
      ['LAVANDERIA', ['DETERGENTE EN POLVO', 'JABON EN PANELA', 'SUAVIZANTE']],
      ['HOGAR', ['CLORO', 'DESINFECTANTE', 'LAVAPLATOS']],
    ],
  },
  {
    code: '08',
    name: 'CUIDADO PERSONAL',
    taxed: true,
    weighed: false,
    price: [1, 9],
    groups: [
      ['HIGIENE', ['CHAMPU', 'CREMA DENTAL', 'JABON DE TOCADOR', 'DESODORANTE']],
      ['PAPEL', ['PAPEL HIGIENICO', 'SERVILLETAS']],
    ],
  },
];

const BRANDS = [
  'LA GRANJA',
  'DOÑA ROSA',
  'EL SOL',
  'CAMPESTRE',
  'TROPICAL',
  'SUPREMO',
  'DEL VALLE',
  'AURORA',
  'LLANERO',
  'CRIOLLO',
  'BRISA',
  'MONTAÑA',
  'CENTAURO',
  'PRIMAVERA',
  'LA VAQUITA',
  'SABANA',
];

/** Pack sizes of unit products: label, kg thousandths, litres (0 when not a liquid). */
const SIZES: Array<[string, number, number]> = [
  ['250G', 250, 0],
  ['400G', 400, 0],
  ['500G', 500, 0],
  ['900G', 900, 0],
  ['1KG', 1000, 0],
  ['1L', 1030, 1],
  ['1.5L', 1540, 1.5],
  ['2L', 2060, 2],
];

export const PRODUCT_COUNT = 2000;

const catalogues = new Map<number, Product[]>();

function pick<T>(list: readonly T[], u: number): T {
  return list[Math.floor(u * list.length)]!;
}

function ean13(h: number, index: number): string {
  const body = `759${String(combine(h, 11) % 10000).padStart(4, '0')}${String(index).padStart(5, '0')}`;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 === 0 ? 1 : 3);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

function makeProduct(seedHash: number, index: number): Product {
  const h = combine(seedHash, index);
  const category = pick(CATEGORIES, unit(h, 1));
  const [group, nouns] = pick(category.groups, unit(h, 2));
  const noun = pick(nouns, unit(h, 3));
  const brand = pick(BRANDS, unit(h, 4));
  const [minPrice, maxPrice] = category.price;
  // Cheap products sell more: prices lean to the low end of the range.
  let priceUsd4 = Math.round((minPrice + (maxPrice - minPrice) * unit(h, 5) ** 1.5) * 10_000);
  const pack = !category.weighed && group === 'PAPEL' ? pick([4, 12], unit(h, 6)) : 1;
  priceUsd4 *= pack;
  const [sizeLabel, sizeWeightM, litres] = category.weighed ? ['', 1000, 0] : pick(SIZES, unit(h, 7));
  const unitOfMeasure = category.weighed ? 'KG' : pack > 1 ? 'PAQUETE' : 'UNIDAD';
  const weightM = category.weighed ? 1000 : sizeWeightM * pack;
  const code = String(10_000 + index * 4 + (combine(h, 8) % 4)).padStart(8, '0');
  const descripcion = category.weighed
    ? `${noun} ${brand}`
    : `${noun} ${brand} ${sizeLabel}${pack > 1 ? ` ${pack}UND` : ''}`;
  const producto = {
    codigo_producto: code,
    descripcion_producto: descripcion,
    marca_producto: brand,
    modelo_producto: '',
    categoria_producto: category.code,
    grupo_articulo: group,
    subgrupo_producto: noun,
    categoria_nombre: category.name,
    codigo_barras: category.weighed ? '' : ean13(h, index),
    serial: '',
    imei: '',
  };
  const weightText = String(weightM / 1000);
  const grossText = String(Math.round(weightM * (category.weighed ? 1 : 1.04)) / 1000);
  return {
    code,
    unitOfMeasure,
    weighed: category.weighed,
    factor: pack,
    priceUsd4,
    // Mostly 60-95 % of the price; about one product in twelve costs more than it sells for.
    costUsd4: Math.round(priceUsd4 * (0.6 + 0.45 * unit(h, 9))),
    costRatePct: 88 + Math.floor(12 * unit(h, 10)),
    taxPct: category.taxed || unit(h, 12) < 0.2 ? 16 : 0,
    weightM,
    productoJson: fragment(`"producto":[${JSON.stringify(producto)}],`),
    quantityJson: fragment(
      `,"peso_unitario":${weightText},"peso_bruto":${grossText},"volumen_unitario":${litres * pack}` +
        `,"unidad_medida_venta":"${unitOfMeasure}","factor_unidad_medida":${pack},"total_cantidad_por_unidad_medida":`,
    ),
  };
}

/** The catalogue of a seed, built once. Popular products come first. */
export function productCatalogue(seed: number): Product[] {
  let products = catalogues.get(seed);
  if (!products) {
    const seedHash = combine(0x5eed, seed);
    products = Array.from({ length: PRODUCT_COUNT }, (_, i) => makeProduct(seedHash, i));
    catalogues.set(seed, products);
  }
  return products;
}
