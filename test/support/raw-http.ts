// HTTP requests that fetch() will not send: any Host header, any bytes on the wire.
import http from 'node:http';
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  // Tests read answers loosely; their assertions are the type check.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request through node:http, which lets a test choose every header, Host included. */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (/json/.test(res.headers['content-type'] ?? '') && text !== '') body = JSON.parse(text);
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface WireAnswer {
  /** Everything the server sent before it closed the connection. */
  text: string;
  status: number;
  headers: Record<string, string>;
  // Parsed JSON body, when there is one.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function parseWire(text: string): WireAnswer {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
  }));
  const raw = rest.join('\r\n\r\n');
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON: kept as text
  }
  return { text, status: Number(statusLine.split(' ')[1]), headers, body };
}

/**
 * Opens a TCP connection to `url`'s host and port, writes `bytes`, and resolves with what the
 * server sent once it closes the connection (or rejects after `timeoutMs`).
 */
export function sendRaw(url: string, bytes: string | Buffer, timeoutMs = 10_000): Promise<WireAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; it sent: ${Buffer.concat(chunks).toString('utf8')}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseWire(Buffer.concat(chunks).toString('utf8')));
    });
    socket.write(bytes);
  });
}
