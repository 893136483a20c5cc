import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { killHolder, refuseKill } from '../../../../src/engine/repair/kill';
import type { Holder } from '../../../../src/shared/model';
import { startActor, traceWorkspace } from '../../../support/helpers';

function h(pid: number, extra: Partial<Holder> = {}): Holder {
  return { pid, command: 'x', kind: 'other', label: 'x', files: ['db'], locks: [], self: false, ...extra };
}

describe('kill safety', () => {
  const sample = { holders: [h(500), h(600, { self: true, kind: 'doctor' }), h(700)] };

  it('refuses PID 1, itself, its parent, protected VS Code PIDs, and non-holders', () => {
    assert.match(refuseKill(1, sample, [], 600, 650)!, /not a process/);
    assert.match(refuseKill(600, sample, [], 600, 650)!, /doctor itself/);
    assert.match(refuseKill(650, { holders: [h(650)] }, [], 600, 650)!, /part of VS Code/);
    assert.match(refuseKill(700, sample, [700], 600, 650)!, /part of VS Code/);
    assert.match(refuseKill(800, sample, [], 600, 650)!, /does not have the database open/);
    assert.match(refuseKill(-5, sample, [], 600, 650)!, /not a process/);
    assert.equal(refuseKill(500, sample, [], 600, 650), undefined);
  });

  it('stops a real process that holds a write lock with SIGTERM; its lock is released', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const actor = await startActor('hold-write', db);
    const r = await killHolder(db, actor.pid, 'SIGTERM');
    assert.equal(r.stillAlive, false);
    assert.ok(r.holder.locks.includes('RESERVED'));
    assert.match(r.message, /stopped after SIGTERM/);
  });

  it('reports a process that ignores SIGTERM as still alive, then SIGKILL stops it', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    // A holder that traps SIGTERM, like a stuck script would.
    const stubborn = spawn(
      process.execPath,
      ['-e', `process.on('SIGTERM',()=>{}); require('fs').openSync(${JSON.stringify(db)},'r'); console.log('ready'); setInterval(()=>{},1000)`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((res) => stubborn.stdout.once('data', res));
    try {
      const r = await killHolder(db, stubborn.pid!, 'SIGTERM', [], 500);
      assert.equal(r.stillAlive, true);
      const k = await killHolder(db, stubborn.pid!, 'SIGKILL');
      assert.equal(k.stillAlive, false);
    } finally {
      stubborn.kill('SIGKILL');
    }
  });

  it('refuses a PID that does not hold this database, and leaves it running', async () => {
    const { db } = await traceWorkspace({ rows: 5 });
    const other = await traceWorkspace({ rows: 5 });
    const actor = await startActor('hold-read', other.db);
    await assert.rejects(killHolder(db, actor.pid, 'SIGTERM'), /does not have the database open/);
    assert.equal(actor.child.exitCode, null);
    await actor.stop();
    await assert.rejects(killHolder(db, process.pid, 'SIGKILL'), /Not killed/);
  });
});
