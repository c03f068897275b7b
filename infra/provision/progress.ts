/** Progress lines for the command-line tools (provisioning, start). Servers use pino instead. */
export function step(message: string): void {
  process.stderr.write(`[cs] ${message}\n`);
}
