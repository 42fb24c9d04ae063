/** The line the suite entry prints when mocha has finished; the harness trusts a 0 only after it. */
export const SUITE_DONE_MARK = '[flowsession-e2e] mocha finished:';

/**
 * The suite entry prefixes the extension host's console output with this mark, so the harness can tell it
 * from the workbench's own console (both arrive through codeAutomationLog).
 */
export const EXT_HOST_MARK = '~e2e~';
