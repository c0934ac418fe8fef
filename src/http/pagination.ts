/** Links for the seed's page format (`{count, next, previous, results}`) and for seq-cursor windows. */
import type Koa from 'koa';
import { NotFoundError } from '../errors.ts';

function urlOf(ctx: Koa.Context, publicUrl: string): URL {
  return new URL(ctx.originalUrl, publicUrl);
}

/**
 * next/previous URLs of a numbered page, as DRF builds them (page 1 drops the parameter). A page past
 * the end (other than an empty first page) is a 404 `invalid_page`, as in the seed.
 */
export function pageLinks(ctx: Koa.Context, publicUrl: string, page: number, pageSize: number, count: number): { next: string | null; previous: string | null } {
  if (page > 1 && (page - 1) * pageSize >= count) throw new NotFoundError('Page', 'invalid_page');
  const next = page * pageSize < count ? urlOf(ctx, publicUrl) : null;
  next?.searchParams.set('page', String(page + 1));
  let previous: URL | null = null;
  if (page > 1) {
    previous = urlOf(ctx, publicUrl);
    if (page - 1 === 1) previous.searchParams.delete('page');
    else previous.searchParams.set('page', String(page - 1));
  }
  return { next: next?.toString() ?? null, previous: previous?.toString() ?? null };
}

/** next (`after_seq` = last seq shown) and previous (`before_seq` = first seq shown) of a history window. */
export function cursorLinks(
  ctx: Koa.Context,
  publicUrl: string,
  w: { firstSeq: number; lastSeq: number; hasBefore: boolean; hasAfter: boolean },
): { next: string | null; previous: string | null } {
  let next: URL | null = null;
  if (w.hasAfter) {
    next = urlOf(ctx, publicUrl);
    next.searchParams.delete('before_seq');
    next.searchParams.delete('page');
    next.searchParams.set('after_seq', String(w.lastSeq));
  }
  let previous: URL | null = null;
  if (w.hasBefore) {
    previous = urlOf(ctx, publicUrl);
    previous.searchParams.delete('after_seq');
    previous.searchParams.delete('page');
    previous.searchParams.set('before_seq', String(w.firstSeq));
  }
  return { next: next?.toString() ?? null, previous: previous?.toString() ?? null };
}
