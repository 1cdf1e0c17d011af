/** Poll pacing for `logs -f`: quick while lines arrive, backing off (doubling) while idle. */
export class AdaptiveInterval {
  private current: number;

  constructor(
    readonly minMs = 1000,
    readonly maxMs = 10_000,
  ) {
    if (minMs <= 0 || maxMs < minMs) throw new Error(`invalid poll interval range ${minMs}..${maxMs}`);
    this.current = minMs;
  }

  /** The delay before the next poll, given whether the last poll brought lines. */
  next(activity: boolean): number {
    this.current = activity ? this.minMs : Math.min(this.current * 2, this.maxMs);
    return this.current;
  }
}
