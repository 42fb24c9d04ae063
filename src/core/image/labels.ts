/** Labels and repositories of the images flowsession makes, so they are recognised and cleaned up. */
export const IMAGE_LABELS = {
  kind: 'flowsession.image',
  runtimeVersion: 'flowsession.runtime-version',
  base: 'flowsession.base',
  baseId: 'flowsession.base-id',
  env: 'flowsession.env',
} as const;

export const RUNTIME_REPO = 'flowsession-runtime';
export const ENV_REPO = 'flowsession-env';
