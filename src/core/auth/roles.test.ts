import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIONS, ROLES, isAllowed, type Role } from "./roles.ts";

const user = (...roles: Role[]) => ({ kind: "user" as const, roles, systemAdmin: false });

describe("roles", () => {
  it("lets every role read, and only deployers and admins deploy to production", () => {
    for (const role of ROLES) assert.equal(isAllowed(user(role), "read"), true, role);
    assert.deepEqual(
      ROLES.filter((role) => isAllowed(user(role), "deploy:production")),
      ["deployer", "admin"],
    );
  });

  it("keeps approving with approvers and admins", () => {
    assert.deepEqual(ROLES.filter((role) => isAllowed(user(role), "approve")), ["approver", "admin"]);
  });

  it("reserves creating tenants to system admins, whatever their roles", () => {
    assert.equal(isAllowed(user("admin"), "tenant:create"), false);
    assert.equal(isAllowed({ kind: "user", roles: [], systemAdmin: true }, "tenant:create"), true);
  });

  it("gives an agent token only what a host and a runner need, even if its user is an admin", () => {
    const agent = { kind: "agent" as const, roles: ["admin"] as Role[], systemAdmin: true };
    assert.deepEqual(ACTIONS.filter((action) => isAllowed(agent, action)), ["artifact:write", "artifact:read", "host:register", "runner:work"]);
  });

  it("keeps the runner protocol to agents: no user role works jobs", () => {
    for (const role of ROLES) assert.equal(isAllowed(user(role), "runner:work"), false, role);
  });

  it("gives a user with no role nothing", () => {
    assert.deepEqual(ACTIONS.filter((action) => isAllowed(user(), action)), []);
  });
});
