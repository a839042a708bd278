export * from './states.ts';
export * from './report.ts';
export * from './render.ts';
export * from './read.ts';
export * from './compute.ts';
