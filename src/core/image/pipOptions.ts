import type { PipSettings } from '../settings';
import { FlowSessionError } from '../errors';
import { IMAGE_PATHS } from './runtimeFiles';

// A package spec or an option value reaches pip as one argv element; these keep them from being read as options.
const SAFE_VALUE = /^[\x21-\x7e\u00a0-\uffff]+$/;
const PACKAGE_SPEC =
  /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?(\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+(\s*,\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?$/;

/** pip's argv for the user's settings: options only, no shell involved. */
export function pipOptionArgs(pip: PipSettings): string[] {
  const args: string[] = [];
  const add = (flag: string, value: string) => {
    if (!SAFE_VALUE.test(value) || value.startsWith('-')) {
      throw new FlowSessionError(
        'bad-input',
        `The pip setting ${flag} has an invalid value.`,
        'Use a plain URL or host name without spaces.',
      );
    }
    args.push(flag, value);
  };
  if (pip.noIndex) args.push('--no-index');
  if (pip.indexUrl) add('--index-url', pip.indexUrl);
  for (const u of pip.extraIndexUrl) add('--extra-index-url', u);
  for (const u of pip.findLinks) add('--find-links', u);
  for (const h of pip.trustedHost) add('--trusted-host', h);
  return args;
}

/**
 * `pip install` in a session image's environment, quiet and without a cache, with the user's pip settings;
 * `what` names the packages or the requirements file.
 */
export function pipInstallArgv(pip: PipSettings, what: string[]): string[] {
  return [
    IMAGE_PATHS.python,
    '-m',
    'pip',
    'install',
    '--no-cache-dir',
    '--disable-pip-version-check',
    '--no-input',
    '--progress-bar',
    'off',
    ...pipOptionArgs(pip),
    ...what,
  ];
}

/** Validates package specs typed by the user: name, extras and version constraints only. */
export function checkPackageSpecs(specs: string[]): string[] {
  const cleaned = specs.map((s) => s.trim()).filter(Boolean);
  if (cleaned.length === 0)
    throw new FlowSessionError('bad-input', 'No package to install was given.', 'Name one or more packages, e.g. `requests==2.32.3`.');
  for (const s of cleaned) {
    if (!PACKAGE_SPEC.test(s)) {
      throw new FlowSessionError(
        'bad-input',
        `'${s}' is not a package requirement flowsession accepts.`,
        'Give a name with optional extras and version, e.g. `pandas[excel]>=2.0`; use requirements.txt for URLs and options.',
      );
    }
  }
  return cleaned;
}
