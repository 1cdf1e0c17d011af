/** What one poll asks the host for: per log source, where to start and how much to return. */

export interface DockerSourceRequest {
  readonly kind: 'docker';
  readonly service: string;
  /** `docker logs --since` (RFC3339Nano cursor, or the user's --since on the first poll). */
  readonly since?: string;
  /** Lines of the `--since` output already printed (those at the cursor timestamp): skipped on the host. */
  readonly skip: number;
  /** First poll only: `docker logs --tail`; the host then also counts lines sharing the window's first timestamp. */
  readonly tail?: number;
  /** Without --follow: stop at the host time of the first poll, so draining a busy log ends. */
  readonly until?: string;
}

export interface FileSourceRequest {
  readonly kind: 'file';
  readonly service: string;
  readonly path: string;
  /** 1-based line to start from; when absent, the last `tail` lines (or the whole file without tail). */
  readonly startLine?: number;
  readonly tail?: number;
}

export type SourceRequest = DockerSourceRequest | FileSourceRequest;

export interface LogPollRequest {
  /** Random token of the output markers. */
  readonly token: string;
  /** Bytes of log content each source may return (the host caps with head -c). */
  readonly budgetPerSource: number;
  readonly sources: readonly SourceRequest[];
}
