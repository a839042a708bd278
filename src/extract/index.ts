export {
  fetchWindow,
  silentDays,
  type FetchWindowOptions,
  type KlkWatch,
  type WindowAnswer,
  type WindowFailure,
  type WindowResult,
} from './fetch.ts';
export { loadAnswer, recordFailure, type LoadAnswerOptions } from './load.ts';
