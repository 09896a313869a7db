/**
 * Mail: nodemailer (smtpTransport) → the loopback SMTP sink, with German text that must
 * survive encoding; the sink's MIME decoding; the in-memory transport.
 */
import { makeTestPki } from '@fluxel/internal/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeEncodedWords,
  decodeQuotedPrintable,
  memoryTransport,
  parseMessage,
  type SmtpSink,
  smtpTransport,
  startSmtpSink,
} from '../src/server/mail.ts';

describe('startSmtpSink with a certificate: STARTTLS for a portal that insists on TLS', () => {
  // The swarm test's sink (examples/system/swarm/mail-sink.ts) is on the host's bridge address,
  // not loopback: the portal's transport then refuses to send without TLS.
  const pki = makeTestPki({ names: ['127.0.0.1'] });
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink({ tls: { key: pki.keyPem, cert: pki.certPem } });
  });
  afterAll(async () => {
    await sink.close();
  });
  /** One message through a transport that requires TLS (as the portal's does off loopback). */
  async function sendRequiringTls(
    port: number,
    to: string,
    extra: Pick<Parameters<typeof smtpTransport>[0], 'auth' | 'tls'> = {},
  ): Promise<void> {
    const transport = smtpTransport({
      host: '127.0.0.1',
      port,
      from: 'portal@fluxel.test',
      requireTLS: true,
      ...extra,
    });
    try {
      await transport.send({ to, subject: 'Einladung', text: 'Hallo' });
    } finally {
      transport.close();
    }
  }

  it('delivers over STARTTLS to a transport that requires TLS and verifies the certificate', async () => {
    await sendRequiringTls(sink.port, 'admin@alpha.example', {
      auth: { user: 'portal-alpha', pass: 'secret' },
      tls: { ca: pki.caPem },
    });
    const mail = await sink.waitFor((m) => m.to.includes('admin@alpha.example'), 5000);
    expect(mail.user).toBe('portal-alpha');
    expect(mail.subject).toBe('Einladung');
  });

  it('a transport that does not trust the certificate sends nothing', async () => {
    await expect(sendRequiringTls(sink.port, 'nobody@alpha.example')).rejects.toThrow();
    expect(sink.messages.some((m) => m.to.includes('nobody@alpha.example'))).toBe(false);
  });

  it('without a certificate the sink offers no STARTTLS, and a transport requiring TLS refuses', async () => {
    const plain = await startSmtpSink();
    try {
      await expect(sendRequiringTls(plain.port, 'x@alpha.example')).rejects.toThrow();
      expect(plain.messages).toHaveLength(0);
    } finally {
      await plain.close();
    }
  });
});

describe('smtpTransport → startSmtpSink', () => {
  let sink: SmtpSink;
  let transport: ReturnType<typeof smtpTransport>;

  beforeAll(async () => {
    sink = await startSmtpSink();
    transport = smtpTransport({
      host: '127.0.0.1',
      port: sink.port,
      from: '"Fluxel Portal" <portal@fluxel.test>',
    });
  });
  afterAll(async () => {
    transport.close();
    await sink.close();
  });

  it('listens on a free port', () => {
    expect(sink.port).toBeGreaterThan(0);
  });

  it('delivers recipient, subject and body', async () => {
    await transport.send({
      to: 'kunde@example.com',
      subject: 'Your sign-in code',
      text: 'Code: 123456\nValid for 10 minutes.',
    });
    const mail = await sink.waitFor((m) => m.to.includes('kunde@example.com'), 5000);
    expect(mail.to).toEqual(['kunde@example.com']);
    expect(mail.from).toBe('portal@fluxel.test');
    expect(mail.subject).toBe('Your sign-in code');
    expect(mail.text.trimEnd()).toBe('Code: 123456\nValid for 10 minutes.');
    expect(mail.html).toBeUndefined();
    expect(mail.headers.to).toContain('kunde@example.com');
  });

  it('keeps umlauts and ß in subject and body (quoted-printable and encoded words)', async () => {
    const subject = 'Ihr Anmeldecode für das Fluxel-Portal – bitte prüfen';
    const text = `${'Grüße aus Köln!\nÄrger mit Öl, Übermaß an Süßem: ÄÖÜäöüß.\n'.repeat(3)}Ende = gut.`;
    await transport.send({ to: 'jürgen@example.com', subject, text });
    const mail = await sink.waitFor((m) => m.subject.startsWith('Ihr Anmeldecode'), 5000);
    expect(mail.subject).toBe(subject);
    expect(mail.text.trimEnd()).toBe(text);
    expect(mail.raw.toString('latin1')).not.toContain('Grüße'); // really was encoded on the wire
  });

  it('keeps a mostly non-Latin body (base64) and an HTML alternative', async () => {
    const text = 'Здравствуйте! Ваш код: 654321. ありがとう 🙂';
    await transport.send({
      to: 'b@example.com',
      subject: 'Код',
      text,
      html: '<p>Grüße <b>654321</b></p>',
    });
    const mail = await sink.waitFor((m) => m.to.includes('b@example.com'), 5000);
    expect(mail.subject).toBe('Код');
    expect(mail.text.trimEnd()).toBe(text);
    expect(mail.html).toBe('<p>Grüße <b>654321</b></p>');
  });

  it('waitFor rejects after its timeout', async () => {
    await expect(sink.waitFor((m) => m.subject === 'never', 50)).rejects.toThrow(
      /no matching message/,
    );
  });

  it('with requireTLS (the default for non-loopback hosts) refuses a server without STARTTLS', async () => {
    // requireTLS is on for remote hosts; a local sink without STARTTLS must then fail.
    const strict = smtpTransport({
      host: '127.0.0.1',
      port: sink.port,
      from: 'p@fluxel.test',
      requireTLS: true,
    });
    await expect(strict.send({ to: 'x@example.com', subject: 's', text: 't' })).rejects.toThrow();
    strict.close();
  });
});

describe('MIME helpers', () => {
  it('decodes quoted-printable with soft line breaks', () => {
    expect(decodeQuotedPrintable('Gr=C3=BC=C3=9Fe =\r\naus K=C3=B6ln=3D').toString('utf8')).toBe(
      'Grüße aus Köln=',
    );
  });

  it('decodes RFC 2047 encoded words (Q and B), joining adjacent ones', () => {
    expect(decodeEncodedWords('=?UTF-8?Q?F=C3=BCr_Sie?= =?utf-8?B?w6TDtsO8?= ok')).toBe(
      'Für Sieäöü ok',
    );
    expect(decodeEncodedWords('=?ISO-8859-1?Q?M=FCnchen?=')).toBe('München');
  });

  it('parses a hand-made multipart message', () => {
    const raw = [
      'Subject: =?UTF-8?Q?Pr=C3=BCfung?=',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Stra=DFe',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('<i>Straße</i>').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');
    expect(parseMessage(Buffer.from(raw, 'latin1'))).toMatchObject({
      subject: 'Prüfung',
      text: 'Straße',
      html: '<i>Straße</i>',
    });
  });
});

describe('memoryTransport', () => {
  it('keeps messages and resolves waitFor for later ones', async () => {
    const mail = memoryTransport();
    const waiting = mail.waitFor((m) => m.to === 'late@example.com');
    await mail.send({ to: 'early@example.com', subject: 'a', text: 'x' });
    await mail.send({ to: 'late@example.com', subject: 'b', text: 'y', html: '<p>y</p>' });
    expect((await waiting).subject).toBe('b');
    expect(mail.messages.map((m) => m.to)).toEqual(['early@example.com', 'late@example.com']);
    expect((await mail.waitFor((m) => m.subject === 'a')).to).toBe('early@example.com');
  });
});
