/** Parses what the log script printed (see script.ts for the format). */
import { markerOf } from '../host/shell';

export interface SourceChunk {
  readonly service: string;
  readonly status: 'missing' | 'content';
  /** File sources: the line the content starts at. */
  readonly startLine?: number;
  /** Complete lines, without their newline. */
  readonly lines: string[];
  /** An incomplete last line (cut by the cap, or still being written), if any. */
  readonly partial?: string;
  /** More content existed than was returned. */
  readonly truncated: boolean;
  /** Docker tail window: lines before it that share its first timestamp. */
  readonly pre: number;
}

export interface PollOutput {
  readonly hostNow?: string;
  readonly dockerAvailable: boolean;
  /** The script ran to its end and SSM returned all of it. */
  readonly complete: boolean;
  readonly chunks: Map<string, SourceChunk>;
}

function splitContent(content: string): { lines: string[]; partial?: string } {
  if (content.length === 0) return { lines: [] };
  const lines = content.split('\n');
  const last = lines.pop() as string;
  return last.length > 0 ? { lines, partial: last } : { lines };
}

export function parsePollOutput(stdout: string, token: string): PollOutput {
  const marker = markerOf(token);
  const chunks = new Map<string, SourceChunk>();
  let hostNow: string | undefined;
  let dockerAvailable = true;
  let complete = false;
  let pos = 0;
  while (pos < stdout.length) {
    const newline = stdout.indexOf('\n', pos);
    const lineEnd = newline < 0 ? stdout.length : newline;
    const line = stdout.slice(pos, lineEnd);
    pos = lineEnd + 1;
    if (!line.startsWith(`${marker} `)) continue;
    const words = line.slice(marker.length + 1).split(' ');
    switch (words[0]) {
      case 'now':
        hostNow = words[1];
        break;
      case 'docker-unavailable':
        dockerAvailable = false;
        break;
      case 'done':
        complete = true;
        break;
      case 'missing':
        chunks.set(words[1], { service: words[1], status: 'missing', lines: [], truncated: false, pre: 0 });
        break;
      case 'begin': {
        const service = words[1];
        const startLine = words[2] !== undefined ? Number(words[2]) : undefined;
        const contentStart = Math.min(pos, stdout.length);
        const endTag = `\n${marker} end ${service} `;
        const endIndex = stdout.indexOf(endTag, contentStart);
        if (endIndex < 0) {
          // SSM cut the output inside this source: keep the complete lines, the rest is truncated.
          const { lines, partial } = splitContent(stdout.slice(contentStart));
          chunks.set(service, { service, status: 'content', startLine, lines, partial, truncated: true, pre: 0 });
          pos = stdout.length;
          break;
        }
        const content = stdout.slice(contentStart, endIndex);
        const endLineStart = endIndex + 1;
        const endLineEnd = stdout.indexOf('\n', endLineStart);
        const endWords = stdout.slice(endLineStart, endLineEnd < 0 ? stdout.length : endLineEnd).split(' ');
        const { lines, partial } = splitContent(content);
        chunks.set(service, {
          service,
          status: 'content',
          startLine,
          lines,
          partial,
          truncated: endWords[3] === '1',
          pre: Number(endWords[4] ?? 0) || 0,
        });
        pos = endLineEnd < 0 ? stdout.length : endLineEnd + 1;
        break;
      }
      default:
        break;
    }
  }
  return { hostNow, dockerAvailable, complete, chunks };
}
