import { describe, expect, it } from 'vitest';
import { countStatements } from '../src/statement-counter.ts';

interface Client {
  query(text: string): Promise<string>;
}

function fakeDatabase() {
  const client: Client = { query: async (text) => `ran ${text}` };
  return {
    kind: 'fake',
    query: async (text: string) => `ran ${text}`,
    exclusive: async <T>(fn: (c: Client) => Promise<T>) => fn(client),
    close: async () => 'closed',
  };
}

describe('statement counter (the relay bench counts statements on the relay side)', () => {
  it('counts every query, also those on a connection lent to a callback', async () => {
    const counter = { statements: 0 };
    const db = countStatements(fakeDatabase(), counter);
    expect(await db.query('SELECT 1')).toBe('ran SELECT 1');
    await db.query('SELECT 2');
    const inner = await db.exclusive(async (c) => {
      await c.query('BEGIN');
      return c.query('COMMIT');
    });
    expect(inner).toBe('ran COMMIT');
    expect(counter.statements).toBe(4);
  });

  it('leaves other members as they are', async () => {
    const counter = { statements: 0 };
    const db = countStatements(fakeDatabase(), counter);
    expect(db.kind).toBe('fake');
    expect(await db.close()).toBe('closed');
    expect(counter.statements).toBe(0);
  });
});
