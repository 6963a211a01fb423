// `hookd listen`: a local receiver that prints every webhook it gets (request line, headers,
// pretty JSON body) and checks its signature, the quickest way to see hookd deliver.
// Whatever it prints from the request goes through printable(): a sender could put terminal
// escape sequences anywhere in it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { secretKey } from '../signing/standard-webhooks.ts';
import { verify } from '../signing/verify.ts';
import { EXIT_OK, UsageError, integerOption, type Command } from './command.ts';
import { printable } from './terminal-text.ts';

const DEFAULT_PORT = 9000;
const DEFAULT_STATUS = 200;

interface ListenOptions {
  port: number;
  host: string;
  secret: string | undefined;
  status: number;
}

function readOptions(values: Record<string, string | boolean | undefined>): ListenOptions {
  const secret = values.secret as string | undefined;
  if (secret !== undefined) {
    try {
      secretKey(secret);
    } catch {
      throw new UsageError('--secret must be a non-empty secret; a whsec_ secret must be followed by valid base64');
    }
  }
  return {
    port: values.port === undefined ? DEFAULT_PORT : integerOption('port', values.port as string, 0, 65535),
    host: (values.host as string | undefined) ?? '127.0.0.1',
    secret,
    status: values.status === undefined ? DEFAULT_STATUS : integerOption('status', values.status as string, 200, 599),
  };
}

function prettyBody(body: Buffer): string {
  if (body.length === 0) return '(empty body)';
  const text = body.toString('utf8');
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Not JSON: shown as it came.
  }
  return printable(shown, '\n\t');
}

function signatureLine(secret: string | undefined, body: Buffer, headers: http.IncomingHttpHeaders): string {
  if (secret === undefined) return '· signature not checked (start with --secret <the subscription secret> to check it)';
  const result = verify({ secret, payload: body, headers });
  if (!result.valid) return `✗ signature invalid: ${printable(result.reason)}`;
  const when = result.timestamp ? `, signed ${new Date(result.timestamp * 1000).toISOString()}` : '';
  return `✓ signature valid (webhook-id ${printable(result.id) || '(none)'}${when})`;
}

/** One webhook as the operator reads it. */
function describe(request: http.IncomingMessage, body: Buffer, options: ListenOptions): string {
  const headers: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) headers.push(printable(`${request.rawHeaders[i]!.toLowerCase()}: ${request.rawHeaders[i + 1]}`));
  return [
    `── ${new Date().toISOString()}  ${printable(`${request.method} ${request.url}`)}  → answered ${options.status}`,
    ...headers,
    '',
    prettyBody(body),
    '',
    signatureLine(options.secret, body, request.headers),
    '',
    '',
  ].join('\n');
}

export const command: Command = {
  name: 'listen',
  summary: 'Run a local webhook receiver that prints each delivery with its headers, pretty JSON and a ✓/✗ signature check.',
  usage: 'hookd listen [--port 9000] [--secret whsec_…] [--status 200]',
  options: {
    port: { type: 'string', value: 'N', description: `Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one).` },
    host: { type: 'string', value: 'ADDR', description: 'Address to bind (default 127.0.0.1).' },
    secret: { type: 'string', value: 'SECRET', description: 'The subscription\'s signing secret; each delivery\'s signature is checked with it.' },
    status: { type: 'string', value: 'CODE', description: `HTTP status to answer with (default ${DEFAULT_STATUS}; e.g. 500 to watch hookd retry).` },
  },
  async run({ values }) {
    const options = readOptions(values);
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        process.stdout.write(describe(request, Buffer.concat(chunks), options));
        response.writeHead(options.status, { 'content-type': 'text/plain' }).end(options.status < 300 ? 'ok\n' : 'hookd listen was told to refuse\n');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, resolve);
    });
    const { address, port } = server.address() as AddressInfo;
    const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    process.stdout.write(`hookd listen: receiving webhooks on ${url} (any path), answering ${options.status}. Ctrl-C stops.\n`);
    if (options.secret === undefined) process.stdout.write('No --secret given: signatures are shown but not checked.\n');
    process.stdout.write('\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return EXIT_OK;
  },
};
