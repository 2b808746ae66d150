import { TLSSocket } from 'node:tls';

export type CertCheck = { ok: true } | { ok: false; reason: string };

/**
 * Mutual TLS: a connection that presented a verified client certificate may log in only as the
 * account named by the certificate's subject CN (the cabinet id, or `controller`), so a stolen
 * secret is useless without the matching certificate and the reverse. A plain TCP connection, or
 * TLS without a client certificate when none is required, is not concerned.
 */
export function checkClientCertificate(stream: unknown, username: string, required: boolean): CertCheck {
  if (!(stream instanceof TLSSocket)) return required ? { ok: false, reason: 'client certificate required' } : { ok: true };
  const cert = stream.getPeerCertificate();
  const presented = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
  if (!presented) return required ? { ok: false, reason: 'client certificate required' } : { ok: true };
  // The handshake already refuses unverified certificates when one is required; this also covers
  // a server that asks for one without requiring it.
  if (!stream.authorized) return { ok: false, reason: 'client certificate not trusted' };
  const cn: unknown = cert.subject?.CN;
  // Several CNs: which one would be the cabinet is ambiguous, so none is.
  if (typeof cn !== 'string') return { ok: false, reason: 'client certificate has no single subject CN' };
  if (cn !== username) return { ok: false, reason: 'client certificate CN does not match the username' };
  return { ok: true };
}
