export type PackageOrigin = 'base' | 'requirements' | 'by-hand';

export interface InstalledPackage {
  name: string;
  version: string;
  origin: PackageOrigin;
}

interface Dist {
  name: string;
  version: string;
}

const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

/**
 * Where each installed package came from, by comparing with the snapshots taken when the runtime image
 * (base) and the environment image (requirements) were made. Anything else was installed by hand and
 * disappears on reset.
 */
export function classifyPackages(current: Dist[], base: Dist[] | null, env: Dist[] | null): InstalledPackage[] {
  const key = (d: Dist) => `${norm(d.name)}==${d.version}`;
  const inBase = new Set((base ?? []).map(key));
  const inEnv = new Set((env ?? base ?? []).map(key));
  return current.map((d) => ({
    name: d.name,
    version: d.version,
    origin: inBase.has(key(d)) ? 'base' : inEnv.has(key(d)) ? 'requirements' : 'by-hand',
  }));
}
