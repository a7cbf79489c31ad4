/** Who sends a command: the authenticated user and their role. */
export interface Actor {
  userId: string;
  username: string;
  role: 'user' | 'admin';
}

/** Whether `actor` may act on the account `userId`: their own, or any as an admin. */
export function canActFor(actor: Actor, userId: string): boolean {
  return actor.userId === userId || actor.role === 'admin';
}
