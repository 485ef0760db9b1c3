#!/usr/bin/env node
// The `pitwall` command: the CLI's TypeScript through tsx's loader, in this one process (tsx's own command
// starts a second node), with its transforms cached on disk; each command loads its modules only when it runs.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
