/**
 * The README's «Todas las claves» table against the config schema itself, and its environment table against the
 * environment schema: a key added, renamed or given another default fails here until the README says so.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { configSchema } from '../src/catalogue/config.ts';
import { DEFAULT_STORES } from '../src/catalogue/stores.ts';
import { envSchema } from '../src/shared/env.ts';

const README = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8');

/** What a key of the file holds when the file leaves it out. */
type Fallback = { kind: 'default'; value: unknown } | { kind: 'required' } | { kind: 'optional' };

interface ZodLike {
  _zod: { def: { type: string; innerType?: ZodLike; defaultValue?: unknown; element?: ZodLike; shape?: object } };
}

/** Every key of the config file, `a.b` and `list[].field`, with its fallback; objects are told by their keys. */
function configKeys(schema: ZodLike, prefix = '', fallback: Fallback = { kind: 'required' }): Map<string, Fallback> {
  const def = schema._zod.def;
  if (def.type === 'default') return configKeys(def.innerType!, prefix, { kind: 'default', value: def.defaultValue });
  // A prefault's value goes through the schema: its keys' own defaults apply.
  if (def.type === 'prefault') return configKeys(def.innerType!, prefix, { kind: 'optional' });
  if (def.type === 'optional')
    return configKeys(def.innerType!, prefix, fallback.kind === 'required' ? { kind: 'optional' } : fallback);
  if (def.type === 'object') {
    const keys = new Map<string, Fallback>();
    for (const [name, child] of Object.entries(def.shape as Record<string, ZodLike>))
      for (const [key, f] of configKeys(child, prefix ? `${prefix}.${name}` : name)) keys.set(key, f);
    return keys;
  }
  const keys = new Map<string, Fallback>([[prefix, fallback]]);
  if (def.type === 'array' && def.element!._zod.def.type === 'object')
    for (const [key, f] of configKeys(def.element!, `${prefix}[]`)) keys.set(key, f);
  return keys;
}

/** The rows of the first table after `heading`: first cell (without its backticks) to the second. */
function tableAfter(heading: string): Map<string, string> {
  const start = README.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const lines = README.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows = new Map<string, string>();
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const [key, cell] = line.split(' | ').map((c) => c.replace(/^\| /, ''));
    rows.set(key!.replace(/^`|`$/g, ''), cell ?? '');
  }
  return rows;
}

it('the README lists every config key with its default, and nothing else', () => {
  const keys = configKeys(configSchema as unknown as ZodLike);
  const rows = tableAfter('### Todas las claves');
  expect([...rows.keys()]).toEqual([...keys.keys()]);
  for (const [key, fallback] of keys) {
    const cell = rows.get(key)!;
    if (key === 'stores') {
      // The built-in catalogue: its size, not the 19 stores in a cell.
      expect(cell).toContain(`${DEFAULT_STORES.length} tiendas del catálogo incorporado`);
      continue;
    }
    const expected =
      fallback.kind === 'default'
        ? `\`${JSON.stringify(fallback.value)}\``
        : fallback.kind === 'required'
          ? 'obligatoria'
          : '—';
    expect(cell, key).toBe(expected);
  }
});

it('the README names every environment variable, with its default', () => {
  const rows = tableAfter('## Configuración');
  for (const [name, schema] of Object.entries(envSchema.shape)) {
    expect(rows.has(name), name).toBe(true);
    const def = (schema as unknown as ZodLike)._zod.def;
    if (def.type === 'default') expect(rows.get(name), name).toContain(String(def.defaultValue));
  }
  expect([...rows.keys()].sort()).toEqual(Object.keys(envSchema.shape).sort());
});
