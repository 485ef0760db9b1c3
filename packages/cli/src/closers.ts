/**
 * What a command opened that must end with it, such as the stores of a stopped `serve`'s state folder:
 * closed once the command is done, whatever its outcome, so that the process ends and the folder is free.
 */
const closers: (() => Promise<void>)[] = [];

export function closeWhenDone(close: () => Promise<void>): void {
  closers.push(close);
}

export async function closeAll(): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
}
