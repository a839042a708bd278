import { UsageError } from '../shared/errors.ts';

/** No run has that id: exit 2 on the command line, 404 on the API. */
export class UnknownRunError extends UsageError {
  override name = 'UnknownRunError';
}

/** The run exists but its state does not allow it (resume a complete one, cancel a finished one): exit 2, HTTP 409. */
export class RunStateError extends UsageError {
  override name = 'RunStateError';
}
