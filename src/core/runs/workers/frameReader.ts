/**
 * Newline-delimited frames from a socket that is not trusted, with a cap on one frame's size. Each byte is
 * looked at once: a peer that sends a huge frame in small pieces costs the size of what it sent, not its square
 * (re-scanning and re-joining a growing string on every piece would), and the frame stops counting at the cap.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `limit`: the most bytes one frame may have; it may change between pushes (a stranger gets less than a worker) */
  constructor(public limit: number) {}

  /** The frames completed by `chunk`, or 'overflow' once the frame under way is over the limit. */
  push(chunk: Buffer): string[] | 'overflow' {
    const frames: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.pendingBytes + nl - start > this.limit) return 'overflow';
      const piece = chunk.subarray(start, nl);
      frames.push((this.pending.length ? Buffer.concat([...this.pending, piece]) : piece).toString('utf8'));
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > this.limit) return 'overflow';
      this.pending.push(Buffer.from(chunk.subarray(start)));
    }
    return frames;
  }
}
