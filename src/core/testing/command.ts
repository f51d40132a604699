// The `tests.command` of slipway.yaml with a shard's (or a re-run's) files in place of {files}.
// Steps run through the shell, so each file is quoted for a POSIX shell: a file name with a
// space or a quote stays one argument, and none can inject a command.

const SAFE = /^[\w@%+=:,./-]+$/;

/** `file` as one POSIX shell word. */
export function shellQuote(file: string): string {
  return SAFE.test(file) ? file : `'${file.replaceAll("'", `'\\''`)}'`;
}

/** The command with every {files} replaced by the quoted files, space-separated. */
export function testCommand(command: string, files: readonly string[]): string {
  const words = files.map(shellQuote).join(" ");
  return command.replaceAll("{files}", () => words);
}
