import { Transform, type TransformCallback } from 'node:stream';

/** Thrown into the upstream request when a streamed body passes gateway.maxBodyBytes. */
export class BodyTooLargeError extends Error {
  readonly code = 'MESHGW_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/**
 * Passes a request body through while counting it: a chunked body (no content-length) can only
 * be measured as it streams.
 */
export class BodyLimit extends Transform {
  private seen = 0;
  exceeded = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      this.exceeded = true;
      done(new BodyTooLargeError(this.limit));
      return;
    }
    done(null, chunk);
  }
}
