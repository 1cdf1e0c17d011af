/** A configuration problem; its message is one line per problem, naming field, value and what is allowed. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `Invalid configuration: <field> = <value>: <what is allowed>`. */
export function configProblem(field: string, value: unknown, allowed: string): ConfigError {
  const shown = value === undefined ? '(missing)' : JSON.stringify(value);
  return new ConfigError(`Invalid configuration: ${field} = ${shown}: ${allowed}`);
}

/** The raw input value at a validation issue's path, for the message. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
