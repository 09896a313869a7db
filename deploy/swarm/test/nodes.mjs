/**
 * The swarm's nodes for `pnpm test:swarm`: containers of the host's engine, each running its
 * own dockerd (swarm-node.Dockerfile), on one bridge, so one machine holds a swarm whose nodes
 * can be lost one by one (`docker kill`: the node's dockerd and every task on it die at once,
 * as with a power cut) and come back (`docker start`: the node rejoins with its volumes).
 *
 * The options are what this kind of machine allows (`--privileged` is refused here;
 * SYS_RESOURCE and SYS_MODULE are refused too): the node's dockerd needs SYS_ADMIN for its
 * mounts, NET_ADMIN and NET_RAW for its bridges, overlays and iptables, MKNOD for device
 * nodes, and the host's cgroup tree (cgroup v1 here). /var/lib/docker is a directory of the
 * host (overlay2 does not stack on the node's own overlay root); the node's socket is in a
 * host directory too, so the host's client reaches every node without a TCP port.
 */
import { join } from 'node:path';

export const NODE_NETWORK = 'fluxel-nodes';
/** The nodes' bridge: outside the host engine's pool (10.213/16) and the swarm's (10.214/16). */
export const NODE_SUBNET = '10.215.0.0/24';
/** The host on the nodes' bridge: where a service's egress (through its node) reaches the host. */
export const NODE_GATEWAY = '10.215.0.1';
export const NODE_IMAGE = 'fluxel/swarm-node:test';

/** Node n (1, 2, …): its container name, address and hostname. */
export const nodeName = (n) => `fluxel-node-${n}`;
export const nodeAddress = (n) => `10.215.0.${10 + n}`;
/** Node n's directory on the host: its engine's data and its socket. */
export const nodeDir = (work, n) => join(work, 'nodes', nodeName(n));
export const nodeSocket = (work, n) => `unix://${join(nodeDir(work, n), 'sock', 'docker.sock')}`;

/** `docker run` arguments for node n (host engine). */
export function nodeRunArgs(work, n, image = NODE_IMAGE) {
  const dir = nodeDir(work, n);
  return [
    'run',
    '--detach',
    '--name',
    nodeName(n),
    '--hostname',
    nodeName(n),
    '--network',
    NODE_NETWORK,
    '--ip',
    nodeAddress(n),
    ...['SYS_ADMIN', 'NET_ADMIN', 'NET_RAW', 'MKNOD', 'IPC_LOCK', 'SYS_PTRACE'].flatMap((c) => [
      '--cap-add',
      c,
    ]),
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    // /proc/sys writable: dockerd sets forwarding and bridge sysctls in the node's namespaces.
    '--security-opt',
    'systempaths=unconfined',
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/var/run',
    '--volume',
    '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '--volume',
    `${join(dir, 'data')}:/var/lib/docker`,
    '--volume',
    `${join(dir, 'sock')}:/srv/fluxel-node`,
    '--label',
    'fluxel.swarm-node=true',
    image,
  ];
}
