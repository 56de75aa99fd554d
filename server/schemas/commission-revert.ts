import { z } from 'zod';
import { TEXT_LENGTH } from '../domain/limits.js';

/** Reverting an approved commission to declined: the reason is required (SPEC §13). */
export const revertBody = z.strictObject({
  reason: z
    .string({ error: 'is required' })
    .trim()
    .min(1, 'is required: say why the approved commission is declined')
    .max(TEXT_LENGTH, `at most ${TEXT_LENGTH} characters`),
});
