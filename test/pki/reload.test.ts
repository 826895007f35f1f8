import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LocalRunState, ProcessState } from '../../src/local/state.js';
import { signalReload } from '../../src/pki/reload.js';

function proc(name: string, role: ProcessState['role'], pid: number | null): ProcessState {
  return { name, role, pid, health: 'healthy', restarts: 0, logFile: `/tmp/${name}.log` };
}

function runState(supervisorPid: number): LocalRunState {
  return {
    version: 1,
    configFile: '/x/meshgw.yaml',
    startedAt: '2026-03-01T12:00:00Z',
    supervisorPid,
    gatewayUrl: 'http://127.0.0.1:8080/prod',
    ready: true,
    workloads: [
      { name: 'users', kind: 'service', spiffeId: 's', url: 'u', tls: { caFile: 'c', certFile: 'c', keyFile: 'k' }, processes: [proc('users-app', 'app', 11), proc('users-sidecar', 'sidecar', 12)] },
      { name: 'gateway', kind: 'gateway', spiffeId: 's', url: 'u', tls: { caFile: 'c', certFile: 'c', keyFile: 'k' }, processes: [proc('gateway', 'gateway', 13)] },
    ],
  };
}

describe('signalReload', () => {
  it('asks a live supervisor to forward SIGHUP', () => {
    const sent: [number, string][] = [];
    const out = signalReload(runState(10), { isAlive: () => true, kill: (pid, sig) => void sent.push([pid, sig]) });
    assert.deepEqual(out, { via: 'supervisor', signalled: [10] });
    assert.deepEqual(sent, [[10, 'SIGHUP']]);
  });

  it('signals live sidecars and the gateway directly when the supervisor is gone, never the apps', () => {
    const sent: [number, string][] = [];
    const out = signalReload(runState(10), { isAlive: (pid) => pid !== 10, kill: (pid, sig) => void sent.push([pid, sig]) });
    assert.deepEqual(out, { via: 'direct', signalled: [12, 13] });
    assert.deepEqual(sent, [
      [12, 'SIGHUP'],
      [13, 'SIGHUP'],
    ]);
  });

  it('does nothing without a run state', () => {
    assert.deepEqual(signalReload(undefined, { isAlive: () => true, kill: () => assert.fail('no signal expected') }), { via: 'none', signalled: [] });
  });
});
