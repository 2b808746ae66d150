import type { Duplex } from 'node:stream';

/**
 * Bounds what a connection may send before its CONNECT is accepted. aedes's parser keeps
 * buffering a packet until its declared remaining length has arrived (up to 256 MiB), so a socket
 * announcing a huge packet and streaming bytes grows the broker without bound until the connect
 * timeout; a CONNECT of ours is a few hundred bytes.
 *
 * Counts the bytes aedes reads from `stream` (aedes reads in paused mode, so a 'data' listener
 * sees exactly what it consumed and does not change the flow) and destroys the stream past `cap`.
 * Returns the function that stops counting, called once the client is accepted.
 */
export function guardPreConnect(stream: Duplex, cap: number, onOverflow: (bytes: number) => void): () => void {
  let bytes = 0;
  const onData = (chunk: Buffer | string): void => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (bytes <= cap) return;
    release();
    onOverflow(bytes);
    stream.destroy();
  };
  const release = (): void => {
    stream.off('data', onData);
    stream.off('close', release);
  };
  stream.on('data', onData);
  stream.once('close', release);
  return release;
}
