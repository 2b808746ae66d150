// @ts-check
/**
 * Server-Sent Events framing (the subset the live stream uses: `event`, `data`, comments),
 * fed with text chunks cut anywhere. The UI reads the stream with fetch so the access token
 * travels in a header; EventSource could only put it in the URL.
 */

/** @typedef {{ event: string, data: string }} SseMessage */

/**
 * @param {(message: SseMessage) => void} onMessage
 * @returns {{ push(chunk: string): void }}
 */
export function createSseParser(onMessage) {
  let buffer = '';
  let event = '';
  /** @type {string[]} */
  let data = [];

  /** @param {string} line */
  const onLine = (line) => {
    if (line === '') {
      if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };

  // A '\r' ending one chunk may be the first half of a '\r\n' split across chunks.
  let skipLeadingLf = false;

  return {
    push(chunk) {
      buffer += chunk;
      if (skipLeadingLf && buffer !== '') {
        if (buffer.startsWith('\n')) buffer = buffer.slice(1);
        skipLeadingLf = false;
      }
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        if (!match) break;
        if (match[0] === '\r' && match.index === buffer.length - 1) skipLeadingLf = true;
        onLine(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
    },
  };
}
