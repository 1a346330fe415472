// A private PostgreSQL server for a test file (Debian's postgresql package): initdb in a
// temp dir, pg_ctl start on a free loopback port, trust auth, stopped (and removed)
// afterwards. PostgreSQL refuses to run as root, so as root it runs as `nobody` in a temp
// dir that user owns. Every wait is pg_ctl's own (-w), never a sleep.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './cluster.mjs';

function pgBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const v = readdirSync(base).sort((a, b) => Number(b) - Number(a)).find((d) => existsSync(join(base, d, 'bin/initdb')));
  return v ? join(base, v, 'bin') : null;
}
const BIN = pgBin();

// Why PostgreSQL cannot run here, or null.
export function pgMissing() {
  if (!BIN) return 'PostgreSQL is not installed (scripts/deps.sh test installs postgresql)';
  if (process.getuid() === 0 && spawnSync('runuser', ['--help']).status !== 0) return 'runuser is missing (needed to run PostgreSQL as nobody)';
  return null;
}

export async function startPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'noom-pg-'));
  const asRoot = process.getuid() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const run = (cmd, args) => execFileSync(asRoot ? 'runuser' : join(BIN, cmd),
    asRoot ? ['-u', 'nobody', '--', join(BIN, cmd), ...args] : args, { encoding: 'utf8', stdio: 'pipe' });
  run('initdb', ['-D', join(dir, 'data'), '-U', 'noom', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pg = {
    port,
    url: `postgres://noom@127.0.0.1:${port}/postgres`,
    start() { run('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-o', opts, '-w', 'start']); },
    stop() { run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']); },
    // Runs SQL through psql; returns rows as arrays of strings.
    query(sql) {
      const out = execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'noom', '-d', 'postgres',
        '-At', '-F', '\t', '-c', sql], { encoding: 'utf8' });
      return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
    },
    destroy() {
      try { pg.stop(); } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  pg.start();
  return pg;
}
