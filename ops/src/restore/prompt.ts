/** A yes/no question on the terminal (stderr), answered on stdin; available only when both are terminals. */
import type { Prompt } from '../context';

interface TtyLike {
  isTTY?: boolean;
}

export function terminalPrompt(stdin: NodeJS.ReadableStream & TtyLike, stderr: NodeJS.WritableStream & TtyLike): Prompt {
  return {
    available: Boolean(stdin.isTTY && stderr.isTTY),
    confirm(question) {
      const readline = require('node:readline') as typeof import('node:readline');
      const rl = readline.createInterface({ input: stdin, output: stderr, terminal: true });
      return new Promise((resolve) => {
        let answered = false;
        rl.question(`${question} [y/N] `, (answer) => {
          answered = true;
          rl.close();
          resolve(/^y(es)?$/i.test(answer.trim()));
        });
        rl.on('close', () => {
          if (!answered) resolve(false);
        });
      });
    },
  };
}
