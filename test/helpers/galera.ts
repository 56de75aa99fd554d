import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A 3-node MariaDB Galera cluster on loopback ports for the multi-primary tests (SPEC §16):
 * extra `mariadbd` instances with their own data directories, Debian's galera-4 provider, rsync
 * state transfer. Node 1 bootstraps the cluster; 2 and 3 join it and receive its data.
 */
export const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';

export interface GaleraNode {
  index: number;
  port: number;
  dir: string;
  process: ChildProcess | null;
}

export interface GaleraCluster {
  nodes: GaleraNode[];
  url(node: number, database: string): string;
  /** Runs SQL on a node with the mariadb client; answers its tab-separated output. */
  sql(node: number, statement: string): string;
  kill9(node: number): Promise<void>;
  stop(): Promise<void>;
}

/** True when this machine can run the Galera tests (the provider, rsync and mariadbd are there). */
export function galeraAvailable(): boolean {
  return (
    fs.existsSync(GALERA_PROVIDER) &&
    ['/usr/sbin/mariadbd', '/usr/bin/rsync', '/usr/bin/mariadb-install-db'].every((f) => fs.existsSync(f))
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startGalera(opts: { basePort?: number; gcommPort?: number } = {}): Promise<GaleraCluster> {
  const basePort = opts.basePort ?? 4306;
  const gcommPort = opts.gcommPort ?? 5567;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'affix-galera-'));
  const gcomm = [0, 1, 2].map((i) => `127.0.0.1:${gcommPort + i}`).join(',');
  const nodes: GaleraNode[] = [0, 1, 2].map((i) => ({
    index: i + 1,
    port: basePort + i,
    dir: path.join(root, `node${i + 1}`),
    process: null,
  }));
  const cnf = (n: GaleraNode) => {
    const i = n.index - 1;
    const file = path.join(root, `node${n.index}.cnf`);
    fs.writeFileSync(
      file,
      [
        '[mysqld]',
        `datadir=${path.join(n.dir, 'data')}`,
        `socket=${path.join(n.dir, 'sock')}`,
        `pid-file=${path.join(n.dir, 'pid')}`,
        `log-error=${path.join(n.dir, 'error.log')}`,
        `port=${n.port}`,
        'bind-address=127.0.0.1',
        'user=root',
        'skip-name-resolve',
        'binlog_format=ROW',
        'default-storage-engine=InnoDB',
        'innodb_autoinc_lock_mode=2',
        'innodb_buffer_pool_size=64M',
        'innodb_log_file_size=32M',
        'innodb_flush_log_at_trx_commit=2',
        'max_connections=200',
        'wsrep_on=ON',
        `wsrep_provider=${GALERA_PROVIDER}`,
        `wsrep_cluster_address=gcomm://${gcomm}`,
        'wsrep_cluster_name=affix_test',
        `wsrep_node_name=node${n.index}`,
        `wsrep_node_address=127.0.0.1:${gcommPort + i}`,
        `wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${gcommPort + i};ist.recv_addr=127.0.0.1:${gcommPort + 10 + i};gcache.size=64M"`,
        'wsrep_sst_method=rsync',
        `wsrep_sst_receive_address=127.0.0.1:${gcommPort + 20 + i}`,
        'wsrep_slave_threads=2',
        '',
      ].join('\n'),
    );
    return file;
  };
  const start = (n: GaleraNode, bootstrap: boolean) => {
    const args = [`--defaults-file=${cnf(n)}`];
    if (bootstrap) args.push('--wsrep-new-cluster');
    n.process = spawn('/usr/sbin/mariadbd', args, { stdio: 'ignore' });
  };
  const sql = (index: number, statement: string) => {
    const n = nodes[index - 1] as GaleraNode;
    return execFileSync('mariadb', ['-uroot', '-h127.0.0.1', `-P${n.port}`, '-N', '-B', '-e', statement], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  };
  const synced = async (n: GaleraNode, viaSocket: boolean) => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        const connect = viaSocket
          ? ['-uroot', `--socket=${path.join(n.dir, 'sock')}`]
          : ['-uroot', '-h127.0.0.1', `-P${n.port}`];
        const out = execFileSync(
          'mariadb',
          [...connect, '-N', '-B', '-e', "SHOW STATUS LIKE 'wsrep_local_state_comment'"],
          { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] },
        );
        if (/Synced/.test(out)) return;
      } catch {
        /* not up yet */
      }
      if (n.process && (n.process.exitCode !== null || n.process.signalCode !== null)) {
        const log = fs.readFileSync(path.join(n.dir, 'error.log'), 'utf8').slice(-3000);
        throw new Error(`Galera node ${n.index} exited:\n${log}`);
      }
      if (Date.now() > deadline) throw new Error(`Galera node ${n.index} did not sync`);
      await sleep(300);
    }
  };

  // rsync's daemon on a joiner writes as `nobody`: the joiners' directories must let it.
  fs.chmodSync(root, 0o755);
  for (const n of nodes) {
    fs.mkdirSync(path.join(n.dir, 'data'), { recursive: true });
    fs.chmodSync(n.dir, 0o777);
    fs.chmodSync(path.join(n.dir, 'data'), 0o777);
  }
  const first = nodes[0] as GaleraNode;
  execFileSync(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${path.join(first.dir, 'data')}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
    ],
    { stdio: 'ignore', timeout: 120_000 },
  );
  start(first, true);
  await synced(first, true);
  // Root over TCP without a password, like the CI's main MariaDB; replicated to the joiners.
  execFileSync(
    'mariadb',
    [
      '-uroot',
      `--socket=${path.join(first.dir, 'sock')}`,
      '-e',
      "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
    ],
    { timeout: 30_000 },
  );
  for (const n of nodes.slice(1)) {
    start(n, false);
    await synced(n, false);
  }

  const kill9 = async (index: number) => {
    const n = nodes[index - 1] as GaleraNode;
    const child = n.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  };
  return {
    nodes,
    url: (index, database) => `mysql://root@127.0.0.1:${(nodes[index - 1] as GaleraNode).port}/${database}`,
    sql,
    kill9,
    async stop() {
      for (const n of nodes) await kill9(n.index);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
