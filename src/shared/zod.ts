/**
 * zod with its own messages in Spanish, like everything else a person reads: every module takes `z` from here so
 * the locale is set before any schema reports an issue.
 */
import { z } from 'zod';

z.config(z.locales.es());

export { z };
