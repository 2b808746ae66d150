import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  generateMosquittoFiles,
  hashMosquittoPassword,
  mosquittoAclFile,
  mosquittoConf,
  mosquittoPasswordLine,
  parseMosquittoPasswordFile,
  verifyMosquittoPassword,
  type SecretIssuer,
} from './mosquitto-config.js';

const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

describe('mosquitto password hashes', () => {
  it('match the known answer of mosquitto_passwd 2.0.11 for a given salt', () => {
    // Line written by `mosquitto_passwd -c -b pw.txt alice s3cret` on this machine.
    const known = '$7$101$/bknD+hWqlI9qt3G$KWXytKQmyk/WUH0O1WEJOwr5riVV6hBi/I5L80nXirRSkPqAp38poS2nLsQN2O6/E2rtUrcjNTC4IwAiA99GjA==';
    const salt = Buffer.from('/bknD+hWqlI9qt3G', 'base64');
    expect(hashMosquittoPassword('s3cret', { salt })).toBe(known);
    expect(verifyMosquittoPassword('s3cret', known)).toBe(true);
    expect(verifyMosquittoPassword('s3cret!', known)).toBe(false);
  });

  it('round-trips random salts and other iteration counts, and refuses malformed fields', () => {
    const h = hashMosquittoPassword('pw', { iterations: 1000 });
    expect(h).toMatch(/^\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/=]{88}$/);
    expect(verifyMosquittoPassword('pw', h)).toBe(true);
    expect(hashMosquittoPassword('pw')).not.toBe(hashMosquittoPassword('pw'));
    expect(verifyMosquittoPassword('pw', '$6$abc$def')).toBe(false);
    expect(verifyMosquittoPassword('pw', 'plain')).toBe(false);
  });

  it('agrees with mosquitto_passwd when it is installed', (ctx) => {
    if (!existsSync(MOSQUITTO_PASSWD)) {
      if (process.env.CI === 'true') throw new Error(`${MOSQUITTO_PASSWD} is required in CI`);
      ctx.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'luciole-mqpw-'));
    try {
      const file = join(dir, 'pw');
      writeFileSync(file, '');
      execFileSync(MOSQUITTO_PASSWD, ['-b', file, 'ARM-01', 'secret-of-arm-01']);
      const entries = parseMosquittoPasswordFile(readFileSync(file, 'utf8'));
      expect(verifyMosquittoPassword('secret-of-arm-01', entries.get('ARM-01')!)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the field or line when input is invalid', () => {
    expect(() => mosquittoPasswordLine('bad:name', 'x')).toThrow(/username/);
    expect(() => parseMosquittoPasswordFile('ok:$7$101$AAAA$BBBB\n# comment\n')).toThrow(/line 2/);
  });
});

describe('mosquitto acl_file', () => {
  it('gives each cabinet its own up channels to write and down channels to read, the controller the rest', () => {
    const acl = mosquittoAclFile({ controller: 'controller', cabinets: ['ARM-01', 'ARM-02'] });
    const block = (user: string): string[] => {
      const lines = acl.split('\n');
      const start = lines.indexOf(`user ${user}`);
      const out: string[] = [];
      for (let i = start + 1; i < lines.length && lines[i] !== ''; i++) out.push(lines[i]!);
      return out;
    };
    expect(block('ARM-01')).toEqual([
      'topic write luciole/v1/cabinets/ARM-01/status',
      'topic write luciole/v1/cabinets/ARM-01/telemetry',
      'topic write luciole/v1/cabinets/ARM-01/presence',
      'topic write luciole/v1/cabinets/ARM-01/event',
      'topic write luciole/v1/cabinets/ARM-01/ack',
      'topic read luciole/v1/cabinets/ARM-01/policy',
      'topic read luciole/v1/cabinets/ARM-01/command',
      'topic read luciole/v1/cabinets/ARM-01/receipt',
    ]);
    expect(block('ARM-02').every((l) => l.includes('/ARM-02/'))).toBe(true);
    const controller = block('controller');
    expect(controller).toContain('topic read luciole/v1/cabinets/+/telemetry');
    expect(controller).toContain('topic write luciole/v1/cabinets/+/policy');
    expect(controller).toContain('topic write luciole/v1/alerts/+');
    expect(controller.some((l) => l.startsWith('topic write') && l.endsWith('/telemetry'))).toBe(false);
    expect(acl).not.toMatch(/^pattern /m);
  });

  it('refuses an invalid or duplicated cabinet id, naming the field', () => {
    expect(() => mosquittoAclFile({ controller: 'controller', cabinets: ['a/b'] })).toThrow(/cabinets/);
    expect(() => mosquittoAclFile({ controller: 'controller', cabinets: ['A', 'A'] })).toThrow(/twice/);
    expect(() => mosquittoAclFile({ controller: 'controller', cabinets: ['controller'] })).toThrow(/controller account/);
  });

  it('writes a listener config with no anonymous access and the two files', () => {
    const conf = mosquittoConf({ port: 1884, host: '127.0.0.1', passwordFile: '/p', aclFile: '/a' });
    expect(conf).toContain('listener 1884 127.0.0.1');
    expect(conf).toContain('allow_anonymous false');
    expect(conf).toContain('password_file /p');
    expect(conf).toContain('acl_file /a');
    expect(conf).toContain('set_tcp_nodelay true');
  });
});

describe('generateMosquittoFiles', () => {
  let dir: string;
  let issued: Array<[string, string]>;
  const issuer: SecretIssuer = {
    issue: (username, role) => {
      const secret = `${role}-${username}-${issued.length}`;
      issued.push([username, secret]);
      return secret;
    },
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'luciole-mqgen-'));
    issued = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('issues secrets for new accounts only, keeps existing lines, drops removed cabinets', () => {
    const first = generateMosquittoFiles({ outDir: dir, issuer, controller: 'controller', cabinets: ['ARM-01', 'ARM-02'] });
    expect([...first.issued.keys()]).toEqual(['controller', 'ARM-01', 'ARM-02']);
    expect(statSync(first.passwordFile).mode & 0o777).toBe(0o600);
    expect(statSync(first.secretsFile!).mode & 0o777).toBe(0o600);
    const secrets = JSON.parse(readFileSync(first.secretsFile!, 'utf8')) as Record<string, string>;
    const entries1 = parseMosquittoPasswordFile(readFileSync(first.passwordFile, 'utf8'));
    for (const [u, s] of Object.entries(secrets)) expect(verifyMosquittoPassword(s, entries1.get(u)!)).toBe(true);

    const second = generateMosquittoFiles({ outDir: dir, issuer, controller: 'controller', cabinets: ['ARM-02', 'ARM-03'] });
    expect([...second.issued.keys()]).toEqual(['ARM-03']);
    expect(second.removed).toEqual(['ARM-01']);
    const entries2 = parseMosquittoPasswordFile(readFileSync(second.passwordFile, 'utf8'));
    expect(entries2.get('ARM-02')).toBe(entries1.get('ARM-02'));
    expect(entries2.has('ARM-01')).toBe(false);
    expect(readFileSync(second.aclFile, 'utf8')).not.toContain('ARM-01');

    const rotated = generateMosquittoFiles({ outDir: dir, issuer, controller: 'controller', cabinets: ['ARM-02'], rotate: true });
    expect([...rotated.issued.keys()].sort()).toEqual(['ARM-02', 'controller']);
  });

  it('issues nothing when the cabinet list is invalid', () => {
    expect(() => generateMosquittoFiles({ outDir: dir, issuer, controller: 'controller', cabinets: ['ok', 'not ok'] })).toThrow(/cabinets/);
    expect(issued).toEqual([]);
  });
});
