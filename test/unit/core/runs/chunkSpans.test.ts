import * as assert from 'assert';
import { chunkSpans } from '../../../../src/core/runs/engineBatchScheduler';
import type { TraceSpan } from '../../../../src/shared/trace';

const span = (spanId: string, name: string, kind: TraceSpan['kind'], attributes: TraceSpan['attributes'] = {}): TraceSpan => ({
  traceId: 'c'.repeat(32),
  spanId,
  name,
  kind,
  start: '1',
  end: '2',
  status: 'Ok',
  attributes,
});

describe('chunk spans of a batch over engines', () => {
  it("names a chunk's line spans by the batch's line numbers and its root by the chunk, leaving node spans alone", () => {
    const chunk = [7, 9];
    const out = chunkSpans(
      [
        span('r', 'batch', 'flow'),
        span('l0', 'line 0', 'flow', { 'flowsession.line_number': 0 }),
        span('l1', 'line 1', 'flow', { 'flowsession.line_number': 1 }),
        span('n', 'ask', 'node', { 'flowsession.line_number': 1 }),
        span('x', 'line 5', 'flow', { 'flowsession.line_number': 5 }),
      ],
      (i) => chunk[i],
      'chunk 2 on local',
    );
    assert.deepStrictEqual(
      out.map((s) => [s.name, s.attributes['flowsession.line_number']]),
      [
        ['chunk 2 on local', undefined],
        ['line 7', 7],
        ['line 9', 9],
        ['ask', 1],
        ['line 5', 5],
      ],
    );
  });
});
