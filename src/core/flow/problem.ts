/** A problem found in a flow, placed on a file and range (1-based lines and columns, end exclusive). */
export interface FlowProblem {
  /** prompt flow's error code, e.g. NodeReferenceNotFound */
  code: string;
  message: string;
  /** path relative to the flow folder, with forward slashes */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning';
}
