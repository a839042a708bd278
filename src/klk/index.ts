export {
  DAY_END,
  DAY_START,
  describeWindow,
  isWholeDays,
  planWindows,
  splitWindow,
  windowDays,
  type KlkWindow,
  type LocalDateTime,
} from './windows.ts';
export { klkMetaSchema, type KlkMeta } from './schema.ts';
export { AnswerError, JsonArraySplitter, readAnswer, type Answer, type AnswerErrorKind } from './answer.ts';
export {
  createKlkClient,
  KlkError,
  type AnswerInfo,
  type FetchOptions,
  type KlkClient,
  type KlkClientOptions,
  type KlkErrorKind,
  type KlkEvent,
  type KlkRequest,
  type KlkStats,
} from './client.ts';
