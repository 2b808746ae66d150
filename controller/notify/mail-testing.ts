/**
 * Reads back a mail as a test SMTP receiver gets it from nodemailer: French text arrives as
 * MIME encoded words in the subject and quoted-printable (or base64) in the body. Not used in
 * production; no mail parser is among the dependencies, and nodemailer's output needs only this.
 */

export interface ReadMail {
  subject: string;
  text: string;
}

function bytesOfQuotedPrintable(s: string, underscoreIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const hex = s.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c === '_' && underscoreIsSpace) bytes.push(0x20);
    else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes);
}

/** `=?UTF-8?Q?...?=` and `=?UTF-8?B?...?=` words; the space between two encoded words is dropped. */
function decodeWords(header: string): string {
  return header
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, data: string) =>
      (enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : bytesOfQuotedPrintable(data, true)).toString('utf8'),
    );
}

export function readMail(raw: string): ReadMail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const header = (name: string): string => {
    const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    return line ? line.slice(name.length + 1).trim() : '';
  };
  const cte = header('Content-Transfer-Encoding').toLowerCase();
  let text = body;
  if (cte === 'quoted-printable') text = bytesOfQuotedPrintable(body.replace(/=\r?\n/g, ''), false).toString('utf8');
  else if (cte === 'base64') text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { subject: decodeWords(header('Subject')), text: text.replace(/\r\n/g, '\n').replace(/\n+$/, '') };
}
