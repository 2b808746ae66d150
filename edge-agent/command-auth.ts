import { createHmac, timingSafeEqual } from 'node:crypto';
import { COMMAND_KEY_LABEL, commandSigningInput, type Command } from '../protocol/index.js';

/**
 * The cabinet's command key, derived from its MQTT secret exactly as the controller derived it
 * when the secret was issued (docs/protocol.md, "Signed commands"): nothing more to provision.
 */
export function commandKeyFromSecret(secret: string): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(COMMAND_KEY_LABEL, 'utf8').digest();
}

export type CommandCheck =
  | { ok: true; seq: number }
  | { ok: false; error: 'unsigned' | 'bad_signature' | 'replayed' };

/**
 * Whether a parsed command may be considered at all: signed for this cabinet with its key, and
 * with a seq above the last one accepted. Expiry and duplicate ids are checked after, by the
 * caller. Constant-time comparison of the signature.
 */
export function checkCommand(key: Buffer, cabinetId: string, cmd: Command, lastSeq: number): CommandCheck {
  if (cmd.sig === undefined || cmd.seq === undefined) return { ok: false, error: 'unsigned' };
  const expected = createHmac('sha256', key).update(commandSigningInput(cabinetId, cmd, cmd.seq), 'utf8').digest();
  const given = Buffer.from(cmd.sig, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, error: 'bad_signature' };
  if (!(cmd.seq > lastSeq)) return { ok: false, error: 'replayed' };
  return { ok: true, seq: cmd.seq };
}
