import { describe, expect, it } from 'vitest';
import { redactArgs, redactUrl } from './redact.ts';

describe('redactUrl', () => {
  it.each([
    ['http://klk:7002/?token=abc123', 'http://klk:7002/?token=[oculto]'],
    [
      'http://klk:7002/ventas?api_key=k&store=1&Password=p',
      'http://klk:7002/ventas?api_key=[oculto]&store=1&Password=[oculto]',
    ],
    ['https://user:secreto@klk.example:443/', 'https://[oculto]@klk.example/'],
    ['postgres://ventas:clave@db:5432/ventas', 'postgres://[oculto]@db:5432/ventas'],
  ])('hides the credentials of %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrl(url)).not.toMatch(/abc123|secreto|clave|=k&|=p$/);
  });

  it.each([
    ['http://127.0.0.1:7002'],
    ['http://klk:7002/?store=SUC001'],
    ['2026-01-10 00:00'],
    ['tienda_01'],
    ['no es una url'],
  ])('leaves %s exactly as it is', (text) => expect(redactUrl(text)).toBe(text));
});

describe('redactArgs', () => {
  it('redacts URLs given as a value or after =, and nothing else', () => {
    expect(redactArgs(['etl', '--klk-url', 'http://h:1/?token=X', '--x=http://h/?secret=Y', '--todas'])).toEqual([
      'etl',
      '--klk-url',
      'http://h:1/?token=[oculto]',
      '--x=http://h/?secret=[oculto]',
      '--todas',
    ]);
  });
});
