/**
 * The agent's log lines for outbox events: each record by file name and operation, a refusal
 * with the relay's problem code and detail, never the payload, no control characters from a
 * file name or the relay's detail in a plain line.
 */
import type { OutboxEvent, OutboxMessage } from '@fluxel/relay-client/node';
import { describe, expect, it } from 'vitest';
import { logOutboxEvent, printable } from '../src/service.ts';

const message: OutboxMessage = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  connection: 'shop-1',
  operation: 'order.teleport',
  payload: { secretNote: 'do-not-log' },
  metadata: { file: 'a-1.json', operation: 'order.teleport' },
  enqueuedAt: 0,
  attempts: 1,
  nextAttemptAt: 0,
};

function lines(event: OutboxEvent) {
  const out: { line: string; fields: Record<string, unknown> | undefined }[] = [];
  logOutboxEvent((line, fields) => out.push({ line, fields }), event);
  return out;
}

describe('logOutboxEvent', () => {
  it('a delivered record is logged by file name and operation', () => {
    const [entry] = lines({ type: 'delivered', message, attempt: 1 });
    expect(entry?.line).toBe('delivered a-1.json (order.teleport)');
    expect(entry?.fields).toMatchObject({
      event: 'outbox.delivered',
      file: 'a-1.json',
      operation: 'order.teleport',
      messageId: message.id,
    });
  });

  it("a refused record names the operation and the relay's problem code and detail", () => {
    const [entry] = lines({
      type: 'dead',
      message,
      attempt: 1,
      reason: 'not-retryable',
      error: {
        code: 'ERR_RELAY_PROBLEM',
        message: 'the relay answered 422: unknown operation',
        status: 422,
        problemCode: 'ERR_OPERATION_UNSUPPORTED',
        detail: 'unknown operation',
      },
    });
    expect(entry?.line).toMatch(
      /^refused a-1\.json \(order\.teleport\): ERR_OPERATION_UNSUPPORTED: unknown operation/,
    );
    expect(entry?.fields).toMatchObject({
      event: 'outbox.dead',
      file: 'a-1.json',
      operation: 'order.teleport',
      status: 422,
      problemCode: 'ERR_OPERATION_UNSUPPORTED',
      detail: 'unknown operation',
    });
    expect(JSON.stringify(entry)).not.toContain('do-not-log');
  });

  it('control characters in a file name or the detail cannot forge a log line', () => {
    const forged = { ...message, metadata: { file: 'x.json\ndelivered fake.json (order.status)' } };
    const [entry] = lines({
      type: 'dead',
      message: forged,
      attempt: 1,
      reason: 'not-retryable',
      error: { code: 'ERR_RELAY_PROBLEM', message: 'm', detail: 'bad\r\n\u001b[2Jdetail' },
    });
    for (const c of ['\n', '\r', '\u001b']) expect(entry?.line).not.toContain(c);
    expect(entry?.line).toContain('x.json\\u000adelivered fake.json');
    expect(printable('ä ok')).toBe('ä ok');
  });

  it('a message without metadata is named by its id', () => {
    const { metadata: _, ...bare } = message;
    const [entry] = lines({ type: 'delivered', message: bare, attempt: 1 });
    expect(entry?.line).toBe(`delivered ${message.id} (order.teleport)`);
  });
});
