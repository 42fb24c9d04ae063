/**
 * Prompt flow's CLI takes several `k=v` values after one flag (`pf run create --column-mapping a='${data.a}'
 * b='${run.outputs.b}'`, `pf flow test --inputs x=1 y=2`, `--init k=v k2=v2`); node's parseArgs takes one value a
 * flag. This rewrites the values that follow such a flag as that flag repeated, so both spellings mean the same.
 */

/** the flags that take several values in prompt flow's CLI (argparse nargs="+") */
export const MULTI_VALUE_FLAGS = ['inputs', 'column-mapping', 'init'] as const;

/** A value that continues the flag before it: `k=v`, never an option or the end of options. */
function continuesFlag(arg: string): boolean {
  return !arg.startsWith('-') && /^[^=\s]+=/.test(arg);
}

export function expandMultiValueFlags(argv: readonly string[], flags: readonly string[] = MULTI_VALUE_FLAGS): string[] {
  const out: string[] = [];
  let current: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0] : undefined;
    if (name !== undefined) {
      current = flags.includes(name) ? name : undefined;
      out.push(arg);
      // the flag's first value is whatever follows it (`--init init.json` too)
      if (current !== undefined && !arg.includes('=') && i + 1 < argv.length) out.push(argv[++i]);
      continue;
    }
    if (current !== undefined && continuesFlag(arg)) {
      out.push(`--${current}`, arg);
      continue;
    }
    current = undefined;
    out.push(arg);
  }
  return out;
}
