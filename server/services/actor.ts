export type Role = 'owner' | 'manager' | 'affiliate';

/** Who is doing something: recorded in the audit log and checked by services that care. */
export interface Actor {
  userId: number | null;
  label: string;
  role: Role | 'system';
  affiliateId: number | null;
}

export const systemActor: Actor = { userId: null, label: 'system', role: 'system', affiliateId: null };
