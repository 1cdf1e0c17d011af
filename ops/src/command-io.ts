/**
 * What a command's implementation needs from the CLI, without depending on clipanion: stdout,
 * notices on stderr, styling, a spinner, and the AWS clients (created on first use).
 */
import type { AwsClients } from './aws/clients';
import type { OpsServices } from './context';
import type { Spinner } from './output/spinner';
import type { Style } from './output/style';

export interface CommandIO {
  readonly services: OpsServices;
  readonly style: Style;
  /** Writes to stdout. */
  write(text: string): void;
  /** One line on stderr, for people (never mixed into --json output). */
  notice(text: string): void;
  spinner(json: boolean): Spinner;
  aws(): AwsClients;
}
