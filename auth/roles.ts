/**
 * Dashboard roles, weakest first (issue 5): a viewer reads; an operator also generates insights
 * and sends / marks notifications; an admin also manages devices, edges and users.
 */
export const roles = ['viewer', 'operator', 'admin'] as const;

export type Role = (typeof roles)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

/** True when `role` is `needed` or stronger. */
export function hasRole(role: Role, needed: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}
