import { z } from "zod";

/** Lists take `limit` and `offset` and answer `{ items, total, limit, offset }`. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  });

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const idParam = z.object({ id: z.uuid() }).strict();
