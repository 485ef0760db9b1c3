import type { Command } from 'commander';
import { type CliIo, UsageError } from '../io.js';

export function registerMessageCommands(program: Command, io: CliIo): void {
  const message = program.command('message').description('EvalAI submission messages');
  message
    .command('parse')
    .description('validate an EvalAI SQS message body (argument or stdin) and print what Pitwall reads from it')
    .argument('[body]', 'the JSON message body; read from stdin when omitted')
    .action(async (body: string | undefined) => {
      const { InvalidMessageError, parseSubmissionMessage } = await import('@pitwall/domain');
      const raw = body ?? (await io.readStdin());
      try {
        io.out(JSON.stringify(parseSubmissionMessage(raw), null, 2));
      } catch (error) {
        if (error instanceof InvalidMessageError) throw new UsageError(error.message, { cause: error });
        throw error;
      }
    });
}
