/**
 * The compiled `ventas`, as `npm ci` leaves it: bin/build (the `prepare` script) compiles src/ into a package of its
 * own (package.json, bin/, node_modules), and bin/ventas runs from there. That package is the one the test run's
 * global setup builds from the sources (test/global-setup.ts), which the tests that start `ventas` run too.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createPostgresDatabase } from './backends.ts';
import { packageFolder } from './global-setup.ts';
import { runInProcess } from './support/cli.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SLOW = { timeout: 120_000 };
/** The variables a user's shell would not pass on. */
const CLEAN_ENV = { DATABASE_URL: undefined, KLK_BASE_URL: undefined, VENTAS_CONFIG: undefined };

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; nodeArgs?: string[] } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), command, ...args],
      { cwd: options.cwd ?? tmpdir(), env: { ...process.env, ...CLEAN_ENV, ...options.env }, timeout: 90_000 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Which files under the package and which packages a command loads: a module hook reports each on stderr. */
function loadHook(dir: string): string[] {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    'export async function resolve(specifier, context, next) {\n' +
      '  const result = await next(specifier, context);\n' +
      '  process.stderr.write(`loaded ${result.url}\\n`);\n' +
      '  return result;\n' +
      '}\n',
  );
  const register = join(dir, 'register-hooks.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`,
  );
  return ['--import', register];
}

function loaded(stderr: string, dir: string): { modules: string[]; packages: string[] } {
  const urls = [...stderr.matchAll(/^loaded (file:\S+)$/gm)].map((m) => decodeURI(new URL(m[1]!).pathname));
  const dist = join(dir, 'dist') + '/';
  return {
    modules: [...new Set(urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length)))].sort(),
    packages: [...new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))].sort(),
  };
}

const COMMAND_MODULES = [
  'etl',
  'gaps',
  'plan',
  'backfill',
  'verify',
  'quarantine',
  'runs',
  'worker',
  'klk-sim',
  'demo',
  'db',
  'serve',
].map((c) => `cli/${c}.js`);

describe('the compiled ventas (bin/ventas on dist/)', () => {
  let pkg: string;
  let hookArgs: string[];

  beforeAll(() => {
    // Built by `bin/build <package>/dist` at the start of the run, from the sources as they are now.
    const build = inject('ventasBuild');
    pkg = build.pkg;
    // The hooks go in a folder of their own: the package is shared with the tests that start `ventas`.
    hookArgs = loadHook(mkdtempSync(join(tmpdir(), 'ventas-hooks-')));
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
  });

  it('holds every module but the tests, and beside them the migrations and the dashboard page', () => {
    const files = readdirSync(join(pkg, 'dist'), { recursive: true, encoding: 'utf8' });
    expect(files).toContain('cli/main.js');
    expect(files.filter((f) => f.endsWith('.ts') || f.includes('.test.'))).toEqual([]);
    for (const assets of ['db/migrations', 'web/public']) {
      const expected = readdirSync(join(ROOT, 'src', assets)).sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(readdirSync(join(pkg, 'dist', assets)).sort()).toEqual(expected);
    }
  });

  it('--help prints what the sources print, loading no command module and no package but commander', SLOW, async () => {
    const compiled = await run(join(pkg, 'bin', 'ventas'), ['--help'], { nodeArgs: hookArgs });
    expect(compiled.code).toBe(0);
    expect(compiled.stdout).toBe((await runInProcess(['--help'])).stdout);
    const { modules, packages } = loaded(compiled.stderr, pkg);
    expect(modules).toContain('cli/main.js');
    expect(modules.filter((m) => COMMAND_MODULES.includes(m))).toEqual([]);
    expect(packages).toEqual(['commander']);
  });

  it(
    'a command loads its own module and what it needs, not the others (pg-boss only for the queue)',
    SLOW,
    async () => {
      // Bad input ends it before any database is opened, after its module has loaded.
      const backfill = await run(join(pkg, 'bin', 'ventas'), ['backfill', '--stores', ''], { nodeArgs: hookArgs });
      expect(backfill.code).toBe(2);
      const { modules, packages } = loaded(backfill.stderr, pkg);
      expect(modules.filter((m) => COMMAND_MODULES.includes(m))).toEqual(['cli/backfill.js']);
      expect(packages).not.toContain('pg-boss');
    },
  );

  it('--version is the package version', SLOW, async () => {
    const r = await run(join(pkg, 'bin', 'ventas'), ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  describe('with a database', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-compiled-'));
    const migrations = readdirSync(join(ROOT, 'src', 'db', 'migrations')).map((f) => f.replace(/\.sql$/, ''));

    it('db migrate applies every migration from dist/ to a new embedded database', SLOW, async () => {
      const r = await run(join(pkg, 'bin', 'ventas'), ['db', 'migrate'], { cwd, env: { LOG_DIR: join(cwd, 'logs') } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.match(/^ {2}- .+$/gm)).toEqual(migrations.map((m) => `  - ${m}`));
    });

    it.runIf(process.env.TEST_DATABASE_URL)('db migrate applies them to PostgreSQL too', SLOW, async () => {
      const target = await createPostgresDatabase(process.env.TEST_DATABASE_URL!);
      try {
        const r = await run(join(pkg, 'bin', 'ventas'), ['db', 'migrate'], { env: { DATABASE_URL: target.url } });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout.match(/^ {2}- .+$/gm)).toEqual(migrations.map((m) => `  - ${m}`));
      } finally {
        await target.drop();
      }
    });

    it('serve answers with the dashboard page from dist/ and stops on SIGTERM', SLOW, async () => {
      const child = spawn(process.execPath, [join(pkg, 'bin', 'ventas'), 'serve', '--port', '0'], {
        cwd,
        env: { ...process.env, ...CLEAN_ENV, LOG_DIR: join(cwd, 'logs') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      try {
        let stdout = '';
        child.stdout.setEncoding('utf8');
        const url = await new Promise<string>((done, fail) => {
          child.stdout.on('data', (text: string) => {
            stdout += text;
            const match = /^Tablero en (http:\/\/\S+)$/m.exec(stdout);
            if (match) done(match[1]!);
          });
          void exited.then((code) => fail(new Error(`ventas serve terminó (${code}) sin servir: ${stdout}`)));
        });
        for (const [path, file] of [
          ['/', 'index.html'],
          ['/app.js', 'app.js'],
          ['/style.css', 'style.css'],
        ] as const) {
          const res = await fetch(new URL(path, url));
          expect(res.status).toBe(200);
          expect(await res.text()).toBe(readFileSync(join(ROOT, 'src', 'web', 'public', file), 'utf8'));
        }
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
    });
  });
});

describe('bin/build when the sources do not compile', () => {
  it('exits 1 and leaves no dist/ behind, not even the one built before', SLOW, async () => {
    const pkg = packageFolder();
    for (const file of ['tsconfig.json', 'tsconfig.build.json']) cpSync(join(ROOT, file), join(pkg, file));
    mkdirSync(join(pkg, 'src'));
    writeFileSync(join(pkg, 'src', 'broken.ts'), 'export const = ;\n');
    mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(pkg, 'dist', 'cli', 'main.js'), 'export const stale = true;\n');
    const r = await run(join(pkg, 'bin', 'build'), []);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('broken.ts');
    expect(r.stderr).toMatch(/^error: la compilación de src\/ falló \(tsc salió con \d+\)\n$/);
    expect(existsSync(join(pkg, 'dist'))).toBe(false);
  });
});

describe('bin/ventas without a build', () => {
  it('says how to build and exits 1, instead of a module-not-found stack', SLOW, async () => {
    const pkg = packageFolder();
    const r = await run(join(pkg, 'bin', 'ventas'), ['--help']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: ventas no está compilado (falta ${join(pkg, 'dist', 'cli', 'main.js')}): ejecute \`npm run build\` en la carpeta del paquete\n`,
    );
  });
});
