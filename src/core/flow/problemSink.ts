import { ParsedFlow, rangeOfPath, YamlPath } from './dagDocument';
import { FlowProblem } from './problem';

/** Collects problems placed on YAML paths of one parsed flow. */
export class ProblemSink {
  readonly problems: FlowProblem[] = [];

  constructor(private readonly parsed: ParsedFlow) {}

  error(code: string, message: string, path: YamlPath, on: 'key' | 'value' = 'value'): void {
    this.add(code, message, path, 'error', on);
  }

  warning(code: string, message: string, path: YamlPath, on: 'key' | 'value' = 'value'): void {
    this.add(code, message, path, 'warning', on);
  }

  private add(code: string, message: string, path: YamlPath, severity: FlowProblem['severity'], on: 'key' | 'value'): void {
    this.problems.push({ code, message, file: this.parsed.file, ...rangeOfPath(this.parsed, path, { on }), severity });
  }
}
