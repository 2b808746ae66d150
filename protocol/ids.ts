import { z } from 'zod';

/** PROTOCOL.md: ids are 1 to 64 chars of [A-Za-z0-9_.-]. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const idSchema = z
  .string()
  .regex(ID_PATTERN, { message: 'must be 1 to 64 characters of A-Z a-z 0-9 _ . -' });

export type Id = z.infer<typeof idSchema>;

/** Integer milliseconds since the Unix epoch, UTC. */
export const tsSchema = z.number().int().nonnegative();

export const levelSchema = z.number().min(0).max(100);
