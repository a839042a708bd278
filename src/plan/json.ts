/** The plan as JSON (`ventas plan --format json`, `GET /api/plan`), the `ventas etl` command of each step, and a plan file read back. */
import { z } from '../shared/zod.ts';
import { isValidDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import type { PhaseNumber, Plan, PlanEstimate, PlanStep, PlanTotals } from './plan.ts';

export interface PlanStepJson extends PlanStep {
  command: string;
}

export interface PlanJson {
  from: string;
  to: string;
  phases: Array<{ phase: PhaseNumber; title: string; steps: PlanStepJson[] }>;
  /** `estimate` is missing from a plan file saved before the estimates said which model they used. */
  totals: Omit<PlanTotals, 'estimate'> & { estimate?: PlanEstimate };
}

/** A word for the shell: bare when it is safe, single-quoted otherwise. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The step as `ventas etl` arguments, in the seed's order and quoting (`--fecha-desde "2026-01-10 00:00"`); the
 * dates are always `YYYY-MM-DD HH:MM`, safe inside double quotes.
 */
export function stepArguments(step: Pick<PlanStep, 'stores' | 'from' | 'to' | 'chunkDays'>): string[] {
  return [
    `--tiendas ${step.stores.map(shellQuote).join(' ')}`,
    `--fecha-desde "${step.from}"`,
    `--fecha-hasta "${step.to}"`,
    `--chunk-days ${step.chunkDays}`,
  ];
}

/** The whole command on one line; `program` is how `ventas` is invoked (`ventas`, `npx ventas`). */
export function stepCommand(step: Pick<PlanStep, 'stores' | 'from' | 'to' | 'chunkDays'>, program = 'ventas'): string {
  return [`${program} etl`, ...stepArguments(step)].join(' ');
}

export function toPlanJson(plan: Plan, program = 'ventas'): PlanJson {
  return {
    from: plan.from,
    to: plan.to,
    phases: plan.phases.map((p) => ({
      phase: p.phase,
      title: p.title,
      steps: p.steps.map((s) => ({
        stores: [...s.stores],
        from: s.from,
        to: s.to,
        chunkDays: s.chunkDays,
        storeDays: s.storeDays,
        requests: s.requests,
        estimatedSeconds: s.estimatedSeconds,
        command: stepCommand(s, program),
      })),
    })),
    totals: { ...plan.totals, estimate: { ...plan.totals.estimate } },
  };
}

const day = z.string().refine(isValidDate, { message: 'se espera una fecha YYYY-MM-DD' });
const stepEdge = (time: string) =>
  z.string().refine((v) => v.length === 16 && v.slice(10) === ` ${time}` && isValidDate(v.slice(0, 10)), {
    message: `se espera "YYYY-MM-DD ${time}" (días completos)`,
  });
const count = z.number().int().min(0);

const planJsonSchema = z.object({
  from: day,
  to: day,
  phases: z.array(
    z.object({
      phase: z.union([z.literal(1), z.literal(2), z.literal(3)]),
      title: z.string(),
      steps: z.array(
        z
          .object({
            stores: z.array(z.string().min(1)).min(1),
            from: stepEdge('00:00'),
            to: stepEdge('23:59'),
            chunkDays: z.number().int().min(1),
            storeDays: count,
            requests: count,
            estimatedSeconds: count,
            command: z.string(),
          })
          .refine((s) => s.from.slice(0, 10) <= s.to.slice(0, 10), { message: 'from es posterior a to', path: ['to'] }),
      ),
    }),
  ),
  totals: z.object({
    requests: count,
    storeDays: count,
    missingStoreDays: count,
    overFetchRatio: z.number().min(0),
    estimatedSeconds: count,
    estimate: z
      .object({
        model: z.enum(['default', 'fitted']),
        samples: count,
        baseSeconds: z.number().min(0),
        secondsPer1000Lines: z.number().min(0),
        loadBaseSeconds: z.number().min(0),
        loadSecondsPer1000Lines: z.number().min(0),
        concurrency: z.number().int().min(1),
      })
      .optional(),
  }),
});

/** A plan file (`ventas plan --format json`) read back, e.g. for `ventas backfill --plan FILE`; bad input is a UsageError. */
export function parsePlanJson(text: string, source = 'plan'): PlanJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source}: no es JSON válido: ${(error as Error).message}`);
  }
  const result = planJsonSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `  - ${i.path.join('.') || '(raíz)'}: ${i.message}`);
    throw new UsageError(
      `${source} inválido (se espera la salida de ventas plan --format json):\n${issues.join('\n')}`,
    );
  }
  return result.data;
}
