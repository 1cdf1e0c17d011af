/**
 * Exact decimal arithmetic for prices: fixed point on BigInt, 12 digits after the point (pico-dollars).
 * AWS publishes prices as decimal strings ("0.0960000000"); floats would drift when they are summed
 * and multiplied by 730 hours, so they are never used for money here.
 */

const SCALE = 12;
const ONE = 10n ** BigInt(SCALE);
const PATTERN = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function roundDiv(numerator: bigint, denominator: bigint): bigint {
  // Half away from zero.
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (n * 2n + d) / (2n * d);
  return negative ? -q : q;
}

export class Decimal {
  private constructor(private readonly units: bigint) {}

  static readonly ZERO = new Decimal(0n);

  /** Parses "0.096", "12", "1.5E-7"; throws on anything else (NaN, "", "abc"). */
  static parse(text: string): Decimal {
    const match = PATTERN.exec(text.trim());
    if (!match || (match[2] === '' && (match[3] === undefined || match[3] === ''))) {
      throw new Error(`not a decimal number: "${text}"`);
    }
    const [, sign, whole, fraction = '', exponentText] = match;
    const exponent = exponentText ? Number(exponentText) : 0;
    const digits = BigInt(`${whole || '0'}${fraction}` || '0');
    // value = digits * 10^(exponent - fraction.length); stored as value * 10^SCALE.
    const shift = exponent - fraction.length + SCALE;
    const units = shift >= 0 ? digits * 10n ** BigInt(shift) : roundDiv(digits, 10n ** BigInt(-shift));
    return new Decimal(sign === '-' ? -units : units);
  }

  static of(value: number | string | bigint | Decimal): Decimal {
    if (value instanceof Decimal) return value;
    if (typeof value === 'bigint') return new Decimal(value * ONE);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
      return Number.isInteger(value) ? new Decimal(BigInt(value) * ONE) : Decimal.parse(String(value));
    }
    return Decimal.parse(value);
  }

  /** Tries to parse; undefined when the text is not a number. */
  static tryParse(text: unknown): Decimal | undefined {
    if (typeof text !== 'string' && typeof text !== 'number') return undefined;
    try {
      return Decimal.of(text);
    } catch {
      return undefined;
    }
  }

  static sum(values: readonly Decimal[]): Decimal {
    return values.reduce((total, value) => total.add(value), Decimal.ZERO);
  }

  add(other: Decimal): Decimal {
    return new Decimal(this.units + other.units);
  }

  sub(other: Decimal): Decimal {
    return new Decimal(this.units - other.units);
  }

  mul(other: Decimal | number): Decimal {
    const o = Decimal.of(other);
    return new Decimal(roundDiv(this.units * o.units, ONE));
  }

  div(other: Decimal | number): Decimal {
    const o = Decimal.of(other);
    if (o.units === 0n) throw new Error('division by zero');
    return new Decimal(roundDiv(this.units * ONE, o.units));
  }

  cmp(other: Decimal): number {
    return this.units < other.units ? -1 : this.units > other.units ? 1 : 0;
  }

  min(other: Decimal): Decimal {
    return this.cmp(other) <= 0 ? this : other;
  }

  max(other: Decimal): Decimal {
    return this.cmp(other) >= 0 ? this : other;
  }

  isZero(): boolean {
    return this.units === 0n;
  }

  isNegative(): boolean {
    return this.units < 0n;
  }

  /** Rounded half away from zero to `places` digits, always with that many digits: "16.43". */
  toFixed(places: number): string {
    const factor = 10n ** BigInt(SCALE - places);
    const rounded = roundDiv(this.units, factor);
    const negative = rounded < 0n;
    const digits = (negative ? -rounded : rounded).toString().padStart(places + 1, '0');
    const whole = places > 0 ? digits.slice(0, -places) : digits;
    const fraction = places > 0 ? `.${digits.slice(-places)}` : '';
    return `${negative ? '-' : ''}${whole}${fraction}`;
  }

  /** The exact value without trailing zeros: "16.425", "0.096", "80". */
  toString(): string {
    const text = this.toFixed(SCALE);
    return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  }

  toJSON(): string {
    return this.toString();
  }

  /** For display decisions only (never for sums). */
  toNumber(): number {
    return Number(this.toString());
  }
}
