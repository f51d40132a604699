// Where the CPU went in a `bench/rollout.ts --cpu-prof DIR` run: the V8 profiles in DIR summed
// by role (the server, the agents, everything else: their services), restricted to one of the
// timed windows the bench recorded in DIR/windows.json, by file and by function (self time).
//
//   node bench/support/cpu-profile-summary.ts DIR [--window idle|deploy|rollback|all] [--role server|agents|others] [--top 30]
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { window: { type: "string", default: "deploy" }, role: { type: "string", default: "agents" }, top: { type: "string", default: "30" } },
});
const dir = positionals[0];
if (!dir) throw new Error("usage: node bench/support/cpu-profile-summary.ts DIR [--window deploy] [--role agents] [--top 30]");
const meta = JSON.parse(readFileSync(join(dir, "windows.json"), "utf8")) as { server: number; agents: number[]; windows: Record<string, [number, number]> };
const [from, to] = flags.window === "all" ? [0, Infinity] : (meta.windows[flags.window] ?? [NaN, NaN]);
if (Number.isNaN(from)) throw new Error(`no window '${flags.window}' in windows.json (${Object.keys(meta.windows).join(", ")})`);

const roleOf = (pid: number) => (pid === meta.server ? "server" : meta.agents.includes(pid) ? "agents" : "others");
const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|src|test|bench)\//, "$1/");

const byFile = new Map<string, number>();
const byFunction = new Map<string, number>();
let busyMs = 0;
let processes = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith(".cpuprofile"))) {
  const pid = Number(name.split(".")[3]);
  if (roleOf(pid) !== flags.role) continue;
  processes++;
  const profile = JSON.parse(readFileSync(join(dir, name), "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) return;
    const frame = nodes.get(id);
    if (!frame || frame.functionName === "(idle)") return;
    const ms = delta / 1000;
    busyMs += ms;
    const file = frame.url ? short(frame.url) : `(${frame.functionName})`;
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    const fn = `${frame.functionName || "(anonymous)"} ${frame.url ? `${short(frame.url)}:${frame.lineNumber + 1}` : ""}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  });
}

const top = Number(flags.top);
const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / busyMs).toFixed(1).padStart(5)}%  ${key}`);
};
const windowMs = Number.isFinite(to) ? (to - from) / 1000 : NaN;
console.log(`${processes} ${flags.role} profile(s), window '${flags.window}' (${Number.isFinite(windowMs) ? `${(windowMs / 1000).toFixed(2)} s` : "whole run"}): ${(busyMs / 1000).toFixed(2)} s of CPU on the main thread`);
show("by file (self time)", byFile);
show("by function (self time)", byFunction);
