// Roles a user holds in a tenant, and what each allows. A user may hold several roles in one
// tenant (deployer and approver, say); what they may do is the union. Agent tokens are not
// users' roles: they act for a host and may only do what a host needs.

export const ROLES = ["viewer", "developer", "deployer", "approver", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  "read",
  "service:write",
  "release:create",
  "artifact:write",
  "artifact:read",
  "deploy:non-production",
  "deploy:production",
  "approve",
  "member:manage",
  "token:manage",
  "host:register",
  "pipeline:run",
  "runner:work",
  "tenant:create",
] as const;
export type Action = (typeof ACTIONS)[number];

const BUILDER: readonly Action[] = ["read", "artifact:read", "service:write", "release:create", "artifact:write", "deploy:non-production", "pipeline:run"];

const GRANTS: Record<Role, readonly Action[]> = {
  viewer: ["read", "artifact:read"],
  developer: BUILDER,
  deployer: [...BUILDER, "deploy:production"],
  approver: ["read", "artifact:read", "approve"],
  admin: ACTIONS.filter((a) => a !== "tenant:create" && a !== "runner:work"),
};

// A runner uploads what its jobs keep and the release tarballs it packages.
const AGENT_GRANTS: readonly Action[] = ["host:register", "artifact:read", "artifact:write", "runner:work"];

export interface Principal {
  kind: "user" | "agent";
  roles: readonly Role[];
  systemAdmin: boolean;
}

export function isAllowed(principal: Principal, action: Action): boolean {
  if (action === "tenant:create") return principal.kind === "user" && principal.systemAdmin;
  if (principal.kind === "agent") return AGENT_GRANTS.includes(action);
  return principal.roles.some((role) => GRANTS[role].includes(action));
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
