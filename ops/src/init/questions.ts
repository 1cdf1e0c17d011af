/** Questions with a free answer on the terminal (`gm-ops init`): asked on stderr, answered on stdin. */
export interface Questions {
  /** True only when someone can answer: stdin and stderr are terminals. */
  readonly available: boolean;
  /** The answer, trimmed; the default when the answer is empty. */
  ask(question: string, defaultAnswer?: string): Promise<string>;
}

interface TtyLike {
  isTTY?: boolean;
}

export function terminalQuestions(stdin: NodeJS.ReadableStream & TtyLike, stderr: NodeJS.WritableStream & TtyLike): Questions {
  return {
    available: Boolean(stdin.isTTY && stderr.isTTY),
    ask(question, defaultAnswer) {
      const readline = require('node:readline') as typeof import('node:readline');
      const rl = readline.createInterface({ input: stdin, output: stderr, terminal: true });
      return new Promise((resolve) => {
        let answered = false;
        rl.question(`${question}${defaultAnswer ? ` [${defaultAnswer}]` : ''} `, (answer) => {
          answered = true;
          rl.close();
          resolve(answer.trim() || defaultAnswer || '');
        });
        rl.on('close', () => {
          if (!answered) resolve(defaultAnswer ?? '');
        });
      });
    },
  };
}
