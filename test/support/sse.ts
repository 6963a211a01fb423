// A Server-Sent Events client on fetch, for the live attempt stream: collects events until
// closed or until the server ends the stream.

export interface StreamEvent {
  id: string;
  event: string;
  // Tests read events loosely; their assertions are the type check.
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: StreamEvent[] = [];
  let ended = false;
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseEvent(block);
          if (event) events.push(event);
        }
      }
    } catch {
      // Aborted by close().
    }
    ended = true;
  })();
  return {
    response,
    events,
    get ended() {
      return ended;
    },
    close() {
      controller.abort();
      return reading;
    },
  };
}

/** One event block (the text between blank lines); comments and blocks without data are not events. */
export function parseEvent(block: string): StreamEvent | undefined {
  const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':') && l.includes(':'))
    .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]));
  if (fields.data === undefined) return undefined;
  return { id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) };
}
