// The UserRepository contract, run unchanged on both backends: SQLite (better-sqlite3, a real file in
// a temp folder) and DynamoDB on moto's server (venvBin('moto_server')), whose table is created from
// the CloudFormation template's UsersTable properties.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { UserRecord } from '../../services/users/user-repository.js';
import { type MotoServer, startMoto } from '../aws/moto-server.js';
import { userBackends } from './repository-backends.js';

function aUser(username: string): UserRecord {
  return { id: `u-${randomUUID()}`, username, password: { salt: randomBytes(16), hash: randomBytes(32), cost: 1024 } };
}

let moto: MotoServer | undefined;
const endpoint = () => {
  if (!moto) throw new Error('moto_server is not running');
  return moto.endpoint;
};

describe('UserRepository', { timeout: 120_000 }, () => {
  before(async () => {
    moto = await startMoto(process.cwd());
  });
  after(() => moto?.stop());

  for (const backend of userBackends(endpoint)) {
    describe(backend.name, () => {
      it('finds a registered user by username and by id, password hash byte for byte', async () => {
        const { repo, cleanup } = await backend.open();
        try {
          const alice = aUser('alice');
          assert.equal(await repo.insert(alice), 'created');
          assert.deepEqual(await repo.findByUsername('alice'), alice);
          assert.deepEqual(await repo.findById(alice.id), alice);
          assert.equal(await repo.findByUsername('bob'), undefined);
          assert.equal(await repo.findById(`u-${randomUUID()}`), undefined);
        } finally {
          await cleanup();
        }
      });

      it('answers taken for a second user with the same username and keeps the first one', async () => {
        const { repo, cleanup } = await backend.open();
        try {
          const first = aUser('carol');
          const second = aUser('carol');
          assert.equal(await repo.insert(first), 'created');
          assert.equal(await repo.insert(second), 'taken');
          assert.deepEqual(await repo.findByUsername('carol'), first);
          assert.equal(await repo.findById(second.id), undefined, 'the loser left no item behind');
        } finally {
          await cleanup();
        }
      });

      it('lets exactly one of 10 concurrent registrations of one username win', async () => {
        const { repo, cleanup } = await backend.open();
        try {
          const contenders = Array.from({ length: 10 }, () => aUser('dave'));
          const outcomes = await Promise.all(contenders.map((u) => repo.insert(u)));
          assert.equal(outcomes.filter((o) => o === 'created').length, 1, outcomes.join(','));
          const winner = contenders[outcomes.indexOf('created')];
          assert.equal((await repo.findByUsername('dave'))?.id, winner.id);
        } finally {
          await cleanup();
        }
      });

      it('still has every user, and still refuses their usernames, after it is closed and opened again', async () => {
        const opened = await backend.open();
        try {
          const users = ['erin', 'frank', 'grace'].map(aUser);
          for (const u of users) assert.equal(await opened.repo.insert(u), 'created');
          const again = await opened.reopen();
          for (const u of users) {
            assert.deepEqual(await again.findById(u.id), u);
            assert.equal(await again.insert(aUser(u.username)), 'taken');
          }
        } finally {
          await opened.cleanup();
        }
      });
    });
  }
});
