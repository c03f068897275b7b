/**
 * Keeps the stack's child processes running (`npm start`, `npm run start:cluster`, the drill): a
 * child that exits on its own is logged and started again after a backoff that doubles with each
 * crash in a row; one that keeps crashing (more than `maxCrashes` within `crashWindowMs`) makes the
 * supervisor give up, and the caller stops everything. Ctrl-C stops children in reverse start order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where the child's output goes; default the supervisor's own terminal. */
  stdio?: 'inherit' | 'ignore';
}

export interface SupervisorOptions {
  log: (message: string) => void;
  /** Crashes tolerated inside one window before giving up. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** First restart delay; doubles per crash in the window, capped at maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a child may take to stop after SIGTERM before it is killed. */
  stopTimeoutMs?: number;
}

export interface RestartEvent {
  name: string;
  /** When the old process exited and when its replacement was spawned. */
  exitedAt: number;
  restartedAt: number;
  pid: number;
}

export class SupervisedChild {
  proc: ChildProcess;
  crashes: number[] = [];
  restarts = 0;
  constructor(
    readonly spec: ChildSpec,
    proc: ChildProcess,
  ) {
    this.proc = proc;
  }
  get name(): string {
    return this.spec.name;
  }
  get pid(): number | undefined {
    return this.proc.pid;
  }
  get running(): boolean {
    // A process that never spawned has no pid and will never exit.
    return this.proc.pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }
}

export const SUPERVISOR_DEFAULTS = {
  maxCrashes: 5,
  crashWindowMs: 60_000,
  initialBackoffMs: 500,
  maxBackoffMs: 15_000,
  stopTimeoutMs: 15_000,
};

/** Delay before the restart that follows `crashesInWindow` crashes (1 → initial, 2 → double, …). */
export function backoffMs(crashesInWindow: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, crashesInWindow - 1));
}

export class Supervisor extends EventEmitter<{ restart: [RestartEvent]; giveUp: [string] }> {
  readonly children: SupervisedChild[] = [];
  private stopping = false;
  private readonly opts: Required<SupervisorOptions>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(opts: SupervisorOptions) {
    super();
    this.opts = { ...SUPERVISOR_DEFAULTS, ...opts };
  }

  /** Whether stopAll has begun: nothing is started or restarted after that. */
  get stopped(): boolean {
    return this.stopping;
  }

  start(spec: ChildSpec): SupervisedChild {
    if (this.stopping) throw new Error(`not starting ${spec.name}: the supervisor is stopping`);
    const child = new SupervisedChild(spec, this.spawn(spec));
    this.children.push(child);
    this.watch(child);
    return child;
  }

  child(name: string): SupervisedChild {
    const found = this.children.find((c) => c.name === name);
    if (!found) throw new Error(`no supervised child named ${name}`);
    return found;
  }

  private spawn(spec: ChildSpec): ChildProcess {
    // Own process group: Ctrl-C reaches only the supervisor, which stops the children in order.
    return spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', spec.stdio ?? 'inherit', spec.stdio ?? 'inherit'],
      detached: true,
    });
  }

  private watch(child: SupervisedChild): void {
    const proc = child.proc;
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      if (this.stopping || proc !== child.proc) return;
      const now = Date.now();
      child.crashes = [...child.crashes.filter((t) => now - t < this.opts.crashWindowMs), now];
      if (child.crashes.length > this.opts.maxCrashes) {
        this.opts.log(
          `${child.name} crashed ${child.crashes.length} times within ${this.opts.crashWindowMs / 1000} s (last: code ${code}, signal ${signal}); giving up`,
        );
        this.emit('giveUp', child.name);
        return;
      }
      const delay = backoffMs(child.crashes.length, this.opts.initialBackoffMs, this.opts.maxBackoffMs);
      this.opts.log(`${child.name} (pid ${proc.pid}) exited (code ${code}, signal ${signal}); restarting in ${delay} ms`);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopping) return;
        child.proc = this.spawn(child.spec);
        child.restarts += 1;
        this.watch(child);
        this.opts.log(`${child.name} restarted (pid ${child.proc.pid}, restart ${child.restarts})`);
        this.emit('restart', { name: child.name, exitedAt: now, restartedAt: Date.now(), pid: child.proc.pid ?? -1 });
      }, delay);
      this.timers.add(timer);
    };
    proc.once('exit', onEnd);
    // A spawn that fails (missing binary, no resources) emits only 'error': a crash like any other.
    proc.once('error', (err) => {
      this.opts.log(`${child.name}: ${err.message}`);
      onEnd(null, null);
    });
  }

  /** Stops every child, last started first: SIGTERM, then SIGKILL after the stop timeout. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const child of [...this.children].reverse()) await this.stopChild(child);
  }

  /** Last resort when the supervisor's own process exits: SIGKILL whatever still runs. */
  killAll(): void {
    this.stopping = true;
    for (const child of this.children) if (child.running) child.proc.kill('SIGKILL');
  }

  private async stopChild(child: SupervisedChild): Promise<void> {
    const proc = child.proc;
    if (!child.running) return;
    const exited = new Promise<boolean>((r) => proc.once('exit', () => r(true)));
    proc.kill('SIGTERM');
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), this.opts.stopTimeoutMs).unref());
    if (!(await Promise.race([exited, timeout]))) {
      this.opts.log(`${child.name} did not stop in time; killing it`);
      proc.kill('SIGKILL');
      await exited;
    }
  }
}
