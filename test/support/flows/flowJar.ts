import type { SessionManager } from '../../../src/core/session/sessionManager';
import { makeFlow, removeFlow } from './fixtures';

export interface FlowJarOptions {
  /** Start of the temp folder names. */
  prefix?: string;
  /** Called with each folder once its files are written. */
  onMade?: (dir: string) => void;
  /** Called with each folder after its sessions are removed, before the folder is. */
  beforeRemove?: (dir: string) => void;
}

/** Makes flow folders for a suite and, at its end, removes them and their sessions. */
export class FlowJar {
  private readonly dirs: string[] = [];

  constructor(private readonly options: FlowJarOptions = {}) {}

  make(files: Record<string, string>): string {
    const d = makeFlow(files, this.options.prefix);
    this.options.onMade?.(d);
    this.dirs.push(d);
    return d;
  }

  /** Removes every folder made, and its session on each of `managers`. */
  async dispose(managers: SessionManager[]): Promise<void> {
    for (const d of this.dirs.splice(0)) {
      for (const m of managers) await m.remove(d).catch(() => undefined);
      this.options.beforeRemove?.(d);
      removeFlow(d);
    }
  }
}
