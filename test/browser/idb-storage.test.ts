/** The IndexedDB HubStorage in real Chromium: atomic batches, durability before resolve, restore. */
import { describe, expect, it } from 'vitest';
import { idbStorage } from '../../src/adapters/idb-storage.js';
import { webCrypto } from '../../src/adapters/web-crypto.js';
import { Hub } from '../../src/hub/index.js';

const freshDatabase = () => `tabcast-test-${crypto.randomUUID()}`;
const clock = { now: () => Date.parse('2026-01-01T00:00:00Z') };

describe('idbStorage', () => {
  it('applies puts and deletes batch by batch, and a new storage on the same database reads them back', async () => {
    const db = freshDatabase();
    const storage = idbStorage(db);
    await storage.writeBatch(new Map<string, unknown>([['topic:a', { seq: 1, nested: { list: [1, 2] } }], ['topic:b', 'two'], ['identity', { salt: 'x' }]]));
    await storage.writeBatch(new Map<string, unknown>([['topic:b', undefined], ['identity', { salt: 'y' }]]));
    expect(await idbStorage(db).loadAll()).toEqual(new Map<string, unknown>([['identity', { salt: 'y' }], ['topic:a', { seq: 1, nested: { list: [1, 2] } }]]));
  });

  it('a batch holding a value IndexedDB cannot store lands not at all', async () => {
    const db = freshDatabase();
    const storage = idbStorage(db);
    await storage.writeBatch(new Map<string, unknown>([['keep', 1], ['also', 2]]));
    const broken = new Map<string, unknown>([['new', 'value'], ['keep', undefined], ['bad', () => 'functions do not clone'], ['later', 3]]);
    await expect(storage.writeBatch(broken)).rejects.toThrow(/clone/i);
    expect(await idbStorage(db).loadAll()).toEqual(new Map<string, unknown>([['also', 2], ['keep', 1]]));
  });

  it('resolves a batch only after its transaction completed', async () => {
    const order: string[] = [];
    const original = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      const tx = original.apply(this, args);
      if (args[1] === 'readwrite') tx.addEventListener('complete', () => order.push('complete'));
      return tx;
    } as IDBDatabase['transaction'];
    try {
      await idbStorage(freshDatabase()).writeBatch(new Map([['k', 'v']]));
      order.push('resolved');
    } finally {
      IDBDatabase.prototype.transaction = original;
    }
    expect(order).toEqual(['complete', 'resolved']);
  });

  it('HUB-PERSIST-07 an engine built on the same database restores topics, open contexts and content', async () => {
    const db = freshDatabase();
    const first = await Hub.create({ clock, crypto: webCrypto, storage: idbStorage(db), heartbeatMs: 0 });
    const topic = first.createTopic();
    await first.publish({
      id: 'e1',
      event: { 'hub.topic': topic, 'hub.event': 'DiagnosticReport-open', context: [{ key: 'report', resource: { resourceType: 'DiagnosticReport', id: 'dr-1' } }, { key: 'patient', resource: { resourceType: 'Patient', id: 'pt-1' } }] },
    });
    const opened = first.getContext(topic);
    const update = {
      id: 'e2',
      event: {
        'hub.topic': topic,
        'hub.event': 'DiagnosticReport-update',
        'context.versionId': opened['context.versionId'],
        context: [
          { key: 'report', reference: { reference: 'DiagnosticReport/dr-1' } },
          { key: 'updates', resource: { resourceType: 'Bundle', id: 'b1', type: 'transaction', entry: [{ request: { method: 'PUT' }, resource: { resourceType: 'Observation', id: 'obs-1' } }] } },
        ],
      },
    };
    await first.publish(update); // resolves once durable
    const before = first.getContext(topic);

    const second = await Hub.create({ clock, crypto: webCrypto, storage: idbStorage(db), heartbeatMs: 0 });
    expect(second.topicIds()).toContain(topic);
    expect(second.getContext(topic)).toEqual(before);
    await expect(second.publish({ ...update, id: 'e3' })).rejects.toMatchObject({ status: 409 });
  });
});
