// Hosts: machines running `slipway agent`.
import { z } from "zod";
import { Labels, Timestamp } from "./common.ts";

export const HOST_ROLES = ["host", "runner"] as const;
export type HostRole = (typeof HOST_ROLES)[number];

export const Host = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  labels: Labels,
  registered_at: Timestamp,
  last_heartbeat_at: Timestamp,
  reachable: z.boolean().describe("false once the host has missed several heartbeats"),
  agent_version: z.string().nullable(),
  roles: z.array(z.enum(HOST_ROLES)),
});
export type Host = z.infer<typeof Host>;

export const HostRegister = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, "host names are letters, digits, dots, dashes and underscores"),
  address: z.string().min(1).max(253),
  labels: Labels.default({}),
});
export type HostRegister = z.infer<typeof HostRegister>;

export const HostQuery = z.object({
  selector: z
    .string()
    .optional()
    .describe("labels the hosts must have, as k=v,k=v"),
});
