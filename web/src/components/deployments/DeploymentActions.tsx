// What a person may do to a deployment in progress: resume it (a pause, or a failed analysis
// whose response was pause), roll it back, or cancel it. The server checks the permission
// (deployer for production) and the state; a refusal is shown beside the buttons.
import { useState } from "react";
import { useAction } from "../../lib/action.ts";
import type { Deployment } from "../../lib/api.ts";
import { commandDeployment, commandsFor, type DeploymentCommand } from "../../lib/deployments.ts";
import { ActionError } from "../ActionError.tsx";

const BUTTONS: Record<DeploymentCommand, { label: string; busy: string; danger: boolean; title: string }> = {
  resume: { label: "Resume", busy: "Resuming…", danger: false, title: "go on with the next stage" },
  rollback: { label: "Roll back", busy: "Rolling back…", danger: true, title: "return every host this deployment changed to the previous release" },
  cancel: { label: "Cancel", busy: "Cancelling…", danger: true, title: "stop here; hosts already changed are returned to the previous release" },
};

export function DeploymentActions({ d, onDone }: { d: Deployment; onDone: () => void }) {
  const { busy, error, run } = useAction();
  const [pending, setPending] = useState<DeploymentCommand | null>(null);
  const commands = commandsFor(d.state);
  if (commands.length === 0) return null;
  const send = async (command: DeploymentCommand) => {
    setPending(command);
    if (await run((token) => commandDeployment(token, d.id, command))) onDone();
    setPending(null);
  };
  return (
    <span className="deployment-actions">
      {commands.map((command) => (
        <button key={command} type="button" className={`action ${BUTTONS[command].danger ? "danger" : ""}`} title={BUTTONS[command].title} disabled={busy} onClick={() => void send(command)}>
          {busy && pending === command ? BUTTONS[command].busy : BUTTONS[command].label}
        </button>
      ))}
      <ActionError error={error} />
    </span>
  );
}
