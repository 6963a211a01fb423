import { readFileSync } from 'node:fs';

/** hookd's version, from package.json (sent as `user-agent: hookd/<version>`). */
export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
