/**
 * What a run id looks like, checked wherever one arrives from outside (a panel message, a folder
 * name in the runs history) before it is used in a path. Ids are made in core/runs/runId.ts; this
 * pattern accepts every id made there and never a path: one segment, no leading dot.
 */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
