import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { AppContext } from './context.js';
import { exportFileName } from '../services/exports.js';

/** `format=csv` on a list endpoint (SPEC §13): the whole filtered list as CSV instead of one JSON page. */
export const listFormat = z.enum(['json', 'csv']).optional();

/** Answers a streamed CSV export as a download. */
export function sendCsv(ctx: AppContext, what: string, stream: Readable): void {
  ctx.type = 'text/csv; charset=utf-8';
  ctx.attachment(exportFileName(what, ctx.services.clock()));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = stream;
}
