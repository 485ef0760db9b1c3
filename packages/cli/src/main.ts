#!/usr/bin/env node
// First: Powertools reads its settings as the local runtime's functions are imported.
import '@pitwall/local/powertools-environment';
import { runCli } from './program.js';

// The AWS SDK's notice that later versions need Node 22 is for the maintainers (the lockfile pins the
// SDK), not for someone running a demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await runCli(process.argv.slice(2));
