export * from './plan.ts';
export * from './json.ts';
export * from './render.ts';
