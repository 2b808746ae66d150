import { z } from 'zod';

/** Who an MQTT connection is, once authenticated: the broker's ACL decides from this alone. */
export const roleSchema = z.enum(['cabinet', 'controller']);
export type Role = z.infer<typeof roleSchema>;

export interface Identity {
  username: string;
  role: Role;
}
