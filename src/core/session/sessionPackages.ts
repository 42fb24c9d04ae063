import type { Engine, ExecResult } from '../docker/engine';
import { FlowSessionError } from '../errors';
import { pipInstallArgv } from '../image/pipOptions';
import { outputTail } from '../image/recipe';
import { IMAGE_PATHS, SESSION_USER } from '../image/runtimeFiles';
import type { SessionSettings } from '../settings';
import { classifyPackages, type InstalledPackage } from './packages';
import type { SessionProgress } from './state';

/** pip's output kept for an error message; the rest only streams by as progress */
const PIP_OUTPUT_BYTES = 256 * 1024;

/**
 * The packages of a running session's container: installed by hand or from the flow's requirements file (they live
 * until the session is reset), and listed with where each came from.
 */
export class SessionPackages {
  constructor(
    private readonly engine: Engine,
    private readonly settings: SessionSettings,
  ) {}

  /** Installs checked package specs; returns the last lines of pip's output. */
  install(containerId: string, packages: string[], onProgress?: SessionProgress): Promise<string> {
    const names = packages.join(' ');
    return this.pipInstall(
      containerId,
      ['--', ...packages],
      `installing ${names}`,
      onProgress,
      (r) =>
        new FlowSessionError(
          'requirements-failed',
          `pip could not install ${names}:\n${outputTail(r)}`,
          'Check the package names and the pip settings (flowsession.pip.*).',
        ),
    );
  }

  /** Installs a requirements file of the flow folder (already copied into the session). */
  installRequirements(containerId: string, requirementsFile: string, onProgress?: SessionProgress): Promise<string> {
    const file = `${IMAGE_PATHS.flow}/${requirementsFile}`;
    return this.pipInstall(
      containerId,
      ['-r', file],
      `installing ${requirementsFile}`,
      onProgress,
      (r) =>
        new FlowSessionError(
          'requirements-failed',
          `Installing ${requirementsFile} failed:\n${outputTail(r)}`,
          'Fix the requirements file or the pip settings.',
        ),
    );
  }

  /** Installed packages with their origin: base image, requirements, or installed by hand. */
  async list(containerId: string): Promise<InstalledPackage[]> {
    const r = await this.engine.exec(
      containerId,
      [IMAGE_PATHS.python, `${IMAGE_PATHS.runtime}/image/list_packages.py`, '--origins', IMAGE_PATHS.basePackages, IMAGE_PATHS.envPackages],
      { user: SESSION_USER },
    );
    if (r.exitCode !== 0)
      throw new FlowSessionError('runtime-crashed', `Listing packages failed: ${outputTail(r, 3)}`, 'Reset the session.');
    const data = JSON.parse(r.stdout) as {
      current: { name: string; version: string }[];
      base: { name: string; version: string }[] | null;
      env: { name: string; version: string }[] | null;
    };
    return classifyPackages(data.current, data.base, data.env);
  }

  private async pipInstall(
    containerId: string,
    what: string[],
    doing: string,
    onProgress: SessionProgress | undefined,
    failed: (r: ExecResult) => FlowSessionError,
  ): Promise<string> {
    const r = await this.engine.exec(containerId, pipInstallArgv(this.settings.pip, what), {
      user: SESSION_USER,
      onStdout: (log) => onProgress?.({ phase: 'installing', log }),
      onStderr: (log) => onProgress?.({ phase: 'installing', log }),
      maxOutputBytes: PIP_OUTPUT_BYTES,
    });
    if (r.exitCode !== 0) throw (await this.lostDuring(containerId, doing, r.exitCode)) ?? failed(r);
    return outputTail(r, 3);
  }

  /** When a command failed because its session container was stopped or removed meanwhile, the error that says so. */
  private async lostDuring(id: string, what: string, exitCode?: number): Promise<FlowSessionError | undefined> {
    let c = await this.engine.inspectContainer(id).catch(() => undefined);
    // a command killed with its container (a signal's exit code, or none) can end before the engine shows the
    // container stopped or gone: look again for a moment before blaming the command
    for (let i = 0; c?.running && (exitCode === undefined || exitCode < 0 || exitCode >= 128) && i < 15; i++) {
      await new Promise((r) => setTimeout(r, 200));
      c = await this.engine.inspectContainer(id).catch(() => undefined);
    }
    if (c?.running) return undefined;
    return c
      ? new FlowSessionError('session-not-running', `The session stopped while ${what}.`, 'Start the session again, then retry.')
      : new FlowSessionError('session-not-found', `The session was removed while ${what}.`, 'Start the session again, then retry.');
  }
}
