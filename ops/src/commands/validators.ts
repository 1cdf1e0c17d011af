/**
 * typanion validators for options and positionals: a bad value fails with one line naming the
 * option, the value, and what is allowed (exit 2).
 */
import * as t from 'typanion';
import { DEPLOYMENT_NAME_PATTERN, DEPLOYMENT_NAME_RULE } from '../contract';
import { OpsError } from '../errors';
import { parseSince } from '../logs/since';

type State = t.ValidationState | undefined;

function fail(state: State, message: string): false {
  state?.errors?.push(`${state.p ?? '.'}: ${message}`);
  return false;
}

function coerce(state: State, value: unknown): boolean {
  if (state?.coercions && state.coercion) {
    state.coercions.push([state.p ?? '.', state.coercion.bind(null, value)]);
  }
  return true;
}

export function deploymentNameProblem(value: string): string | undefined {
  return DEPLOYMENT_NAME_PATTERN.test(value) ? undefined : `expected a deployment name — ${DEPLOYMENT_NAME_RULE} (got "${value}")`;
}

export const isDeploymentName = t.makeValidator<unknown, string>({
  test: (value, state): value is string => {
    if (typeof value !== 'string') return fail(state, 'expected a deployment name');
    const problem = deploymentNameProblem(value);
    return problem ? fail(state, problem) : true;
  },
});

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export const isRegion = t.makeValidator<unknown, string>({
  test: (value, state): value is string =>
    typeof value === 'string' && REGION.test(value) ? true : fail(state, `expected an AWS region like eu-west-1 (got "${String(value)}")`),
});

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration (`500ms`, `10s`, `2m`, or plain seconds), coerced to milliseconds within bounds. */
export function isDurationMs(minMs: number, maxMs: number) {
  const range = `between ${minMs < 1000 ? `${minMs}ms` : `${minMs / 1000}s`} and ${maxMs / 1000}s`;
  return t.makeValidator<unknown, number>({
    test: (value, state): value is number => {
      const match = typeof value === 'string' ? DURATION.exec(value.trim()) : null;
      if (!match) return fail(state, `expected a duration like 500ms, 10s or 2m (got "${String(value)}")`);
      const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's'];
      if (!(ms >= minMs && ms <= maxMs)) return fail(state, `expected a duration ${range} (got "${String(value)}")`);
      return coerce(state, Math.round(ms));
    },
  });
}

/** A whole number of lines, coerced. */
export function isLineCount(max: number) {
  return t.makeValidator<unknown, number>({
    test: (value, state): value is number => {
      const text = typeof value === 'string' ? value.trim() : '';
      if (!/^\d+$/.test(text) || Number(text) > max) {
        return fail(state, `expected a whole number of lines from 0 to ${max} (got "${String(value)}")`);
      }
      return coerce(state, Number(text));
    },
  });
}

/** Repeatable option whose values must come from a fixed list. */
export function isListOf(allowed: readonly string[], what: string) {
  return t.makeValidator<unknown, string[]>({
    test: (value, state): value is string[] => {
      if (!Array.isArray(value)) return fail(state, `expected ${what}`);
      const unknown = value.filter((v) => !allowed.includes(String(v)));
      if (unknown.length > 0) return fail(state, `unknown ${what} "${unknown.join('", "')}"; allowed: ${allowed.join(', ')}`);
      return true;
    },
  });
}

/** `--since`: a duration or an RFC3339 time (parsed again, into a SinceSpec, by the command). */
export const isSince = t.makeValidator<unknown, string>({
  test: (value, state): value is string => {
    try {
      parseSince(String(value));
      return true;
    } catch (error) {
      const problem = error as OpsError;
      return fail(state, `${problem.message.replace(/^invalid --since /, 'got ')}; ${problem.hint ?? ''}`.trim());
    }
  },
});

/** A whole number within bounds (`--limit`), coerced. */
export function isWholeNumber(min: number, max: number) {
  return t.makeValidator<unknown, number>({
    test: (value, state): value is number => {
      const text = typeof value === 'string' ? value.trim() : '';
      if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
        return fail(state, `expected a whole number from ${min} to ${max} (got "${String(value)}")`);
      }
      return coerce(state, Number(text));
    },
  });
}
