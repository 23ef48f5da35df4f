import type { DashboardSpec, PanelSpec, QuerySpec } from './grafana.js';

/**
 * The four dashboards of cluster/grafana/dashboards, as data. `npm run dashboards -w
 * @ballast/deploy` writes them; the tests check that the committed JSON is what this renders and
 * that every query here returns data from a real cluster under load.
 *
 * Label conventions (set by the processes themselves, not by Prometheus): `member` on meta series,
 * `node` on storage-node series, `host` on agent series, `volume` on per-volume series (the
 * volume's name on agents).
 */

const RATE = '$__rate_interval';

function quantiles(
  metric: string,
  selector: string,
  by: string,
  legendPrefix: string,
  qs: number[] = [0.5, 0.99],
): QuerySpec[] {
  return qs.map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${by}, le) (rate(${metric}_bucket{${selector}}[${RATE}])))`,
    legend: `${legendPrefix} p${Math.round(q * 100)}`,
  }));
}

function stat(
  title: string,
  description: string,
  expr: string,
  extra: Partial<PanelSpec> = {},
): PanelSpec {
  return {
    title,
    description,
    type: 'stat',
    unit: 'none',
    width: 6,
    height: 5,
    queries: [{ expr, ...(extra.showName ? { legend: '{{member}}' } : {}) }],
    ...extra,
  };
}

const overview: DashboardSpec = {
  uid: 'ballast-overview',
  file: 'cluster-overview',
  title: 'Ballast / Cluster overview',
  description: 'Meta members and leader, storage nodes, volume health, capacity and cluster I/O',
  tags: ['ballast'],
  variables: [],
  rows: [
    {
      title: 'Metadata service',
      panels: [
        stat(
          'Meta members up',
          'Meta members Prometheus can scrape. A majority (2 of 3) must be up for the map to change.',
          'sum(up{job="ballast-meta"})',
          {
            thresholds: [
              [null, 'red'],
              [2, 'orange'],
              [3, 'green'],
            ],
          },
        ),
        stat(
          'Leader',
          'The member that is Raft leader now. Empty means no leader: nothing can be attached, created or failed over.',
          'max by (member) (ballast_meta_is_leader) == 1',
          { showName: true },
        ),
        stat('Raft term', 'Highest Raft term any member reports.', 'max(ballast_raft_term)'),
        stat(
          'Map revision',
          'Revision of the cluster map: it grows with every committed change.',
          'max(ballast_meta_map_revision)',
        ),
      ],
    },
    {
      title: 'Nodes and volumes',
      panels: [
        {
          title: 'Storage nodes by state',
          description: "Storage nodes in the cluster map by state (meta's view: up, down, ...).",
          type: 'bargauge',
          unit: 'none',
          queries: [{ expr: 'max by (state) (ballast_meta_nodes)', legend: '{{state}}' }],
        },
        {
          title: 'Volumes by health',
          description:
            'Volumes by state: healthy (all replicas in sync), degraded (fewer than desired), faulted (none usable).',
          type: 'bargauge',
          unit: 'none',
          queries: [{ expr: 'max by (state) (ballast_meta_volumes)', legend: '{{state}}' }],
        },
        {
          title: 'Capacity used',
          description:
            'Bytes replica files occupy on all storage nodes, as a share of the capacity they offer.',
          type: 'gauge',
          unit: 'percentunit',
          min: 0,
          max: 1,
          thresholds: [
            [null, 'green'],
            [0.7, 'orange'],
            [0.85, 'red'],
          ],
          queries: [{ expr: 'sum(ballast_node_used_bytes) / sum(ballast_node_capacity_bytes)' }],
        },
      ],
    },
    {
      title: 'Capacity and I/O',
      panels: [
        {
          title: 'Capacity',
          description:
            'Capacity offered, bytes used on disk, and provisioned (sum of replica sizes; thin provisioning lets it exceed capacity).',
          type: 'timeseries',
          unit: 'bytes',
          queries: [
            { expr: 'sum(ballast_node_capacity_bytes)', legend: 'capacity' },
            { expr: 'sum(ballast_node_used_bytes)', legend: 'used' },
            { expr: 'sum(ballast_node_provisioned_bytes)', legend: 'provisioned' },
          ],
        },
        {
          title: 'Cluster IOPS',
          description: 'Block requests per second completed by all attached volumes.',
          type: 'timeseries',
          unit: 'iops',
          queries: [
            {
              expr: `sum by (op) (rate(ballast_agent_volume_ops_total{op=~"read|write|flush"}[${RATE}]))`,
              legend: '{{op}}',
            },
          ],
        },
        {
          title: 'Cluster throughput',
          description: 'Bytes per second read and written by all attached volumes.',
          type: 'timeseries',
          unit: 'Bps',
          queries: [
            {
              expr: `sum by (op) (rate(ballast_agent_volume_bytes_total{op=~"read|write"}[${RATE}]))`,
              legend: '{{op}}',
            },
          ],
        },
      ],
    },
  ],
};

const VOLUME = 'volume=~"$volume"';

const volumeIo: DashboardSpec = {
  uid: 'ballast-volume-io',
  file: 'volume-io',
  title: 'Ballast / Volume I/O',
  description:
    "Per-volume IOPS, throughput, latency, replica health and rebuilds, as the attached host's engine sees them",
  tags: ['ballast'],
  variables: [
    {
      name: 'volume',
      label: 'Volume',
      metric: 'ballast_agent_volume_ops_total',
      labelName: 'volume',
    },
  ],
  rows: [
    {
      title: 'Throughput',
      panels: [
        {
          title: 'IOPS',
          description: 'Reads and writes per second completed by the volume engine.',
          type: 'timeseries',
          unit: 'iops',
          queries: [
            {
              expr: `sum by (volume, op) (rate(ballast_agent_volume_ops_total{${VOLUME}, op=~"read|write"}[${RATE}]))`,
              legend: '{{volume}} {{op}}',
            },
          ],
        },
        {
          title: 'Throughput',
          description: 'Bytes per second read and written.',
          type: 'timeseries',
          unit: 'Bps',
          queries: [
            {
              expr: `sum by (volume, op) (rate(ballast_agent_volume_bytes_total{${VOLUME}, op=~"read|write"}[${RATE}]))`,
              legend: '{{volume}} {{op}}',
            },
          ],
        },
        {
          title: 'Flushes',
          description:
            'Flushes per second (fsync from the filesystem): each one waits for every replica.',
          type: 'timeseries',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (volume) (rate(ballast_agent_volume_ops_total{${VOLUME}, op="flush"}[${RATE}]))`,
              legend: '{{volume}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Latency',
      panels: [
        {
          title: 'Write latency p50 / p99',
          description:
            'Time from a write reaching the engine to its acknowledgement (every in-sync replica has it).',
          type: 'timeseries',
          unit: 's',
          queries: quantiles(
            'ballast_agent_volume_op_duration_seconds',
            `${VOLUME}, op="write"`,
            'volume',
            '{{volume}}',
          ),
        },
        {
          title: 'Read latency p50 / p99',
          description: 'Time to serve a read from one in-sync replica.',
          type: 'timeseries',
          unit: 's',
          queries: quantiles(
            'ballast_agent_volume_op_duration_seconds',
            `${VOLUME}, op="read"`,
            'volume',
            '{{volume}}',
          ),
        },
        {
          title: 'Flush latency p50 / p99',
          description: 'Time for a flush to complete on every replica.',
          type: 'timeseries',
          unit: 's',
          queries: quantiles(
            'ballast_agent_volume_op_duration_seconds',
            `${VOLUME}, op="flush"`,
            'volume',
            '{{volume}}',
          ),
        },
        {
          title: 'Snapshot write pause p50 / p99',
          description:
            'How long writes were held for each snapshot cut (every in-sync replica records the same point).',
          type: 'timeseries',
          unit: 's',
          queries: quantiles(
            'ballast_agent_volume_op_duration_seconds',
            `${VOLUME}, op="snapshot"`,
            'volume',
            '{{volume}}',
          ),
        },
        {
          title: 'Requests in flight',
          description: 'Block requests the engine is working on right now.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `sum by (volume) (ballast_agent_volume_in_flight{${VOLUME}})`,
              legend: '{{volume}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Replicas',
      panels: [
        {
          title: 'Replicas by role',
          description:
            'Replicas the engine writes to: in-sync ones serve reads and count for acknowledgements; rebuilding ones are catching up.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `sum by (volume, role) (ballast_agent_volume_replicas{${VOLUME}})`,
              legend: '{{volume}} {{role}}',
            },
          ],
        },
        {
          title: 'Errors and replica failures',
          description:
            'Block requests that failed, and writes a replica failed (that replica then leaves the in-sync set).',
          type: 'timeseries',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (volume) (rate(ballast_agent_volume_errors_total{${VOLUME}}[${RATE}]))`,
              legend: '{{volume}} failed requests',
            },
            {
              expr: `sum by (volume) (rate(ballast_agent_volume_replica_write_failures_total{${VOLUME}}[${RATE}]))`,
              legend: '{{volume}} replica write failures',
            },
          ],
        },
        {
          title: 'Rebuild progress',
          description:
            'Chunks still to copy to replicas that are rebuilding or reconciling, and the copy rate.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `sum by (volume) (ballast_agent_volume_rebuild_remaining_chunks{${VOLUME}})`,
              legend: '{{volume}} chunks left',
            },
            {
              expr: `sum by (volume) (rate(ballast_agent_volume_rebuild_copied_bytes_total{${VOLUME}}[${RATE}]))`,
              legend: '{{volume}} bytes/s copied',
            },
          ],
        },
      ],
    },
  ],
};

const NODE = 'node=~"$node"';

const node: DashboardSpec = {
  uid: 'ballast-node',
  file: 'node',
  title: 'Ballast / Node',
  description: 'Storage nodes: capacity, disk and data-plane latency, checksum errors and scrub',
  tags: ['ballast'],
  variables: [
    { name: 'node', label: 'Node', metric: 'ballast_node_capacity_bytes', labelName: 'node' },
  ],
  rows: [
    {
      title: 'Capacity',
      panels: [
        {
          title: 'Capacity by node',
          description: 'Capacity offered, bytes used by replica files, and free.',
          type: 'timeseries',
          unit: 'bytes',
          queries: [
            { expr: `ballast_node_capacity_bytes{${NODE}}`, legend: '{{node}} capacity' },
            { expr: `ballast_node_used_bytes{${NODE}}`, legend: '{{node}} used' },
            { expr: `ballast_node_free_bytes{${NODE}}`, legend: '{{node}} free' },
          ],
        },
        {
          title: 'Snapshot space',
          description:
            'Bytes of chunk versions kept for snapshots, per volume (alert when snapshots hold over 25% of a node).',
          type: 'timeseries',
          unit: 'bytes',
          queries: [
            {
              expr: `sum by (node, volume) (ballast_node_snapshot_bytes{${NODE}})`,
              legend: '{{node}} {{volume}}',
            },
          ],
        },
        {
          title: 'Used',
          description: 'Share of the offered capacity in use (alert at 85%).',
          type: 'bargauge',
          unit: 'percentunit',
          min: 0,
          max: 1,
          thresholds: [
            [null, 'green'],
            [0.7, 'orange'],
            [0.85, 'red'],
          ],
          queries: [
            {
              expr: `ballast_node_used_bytes{${NODE}} / ballast_node_capacity_bytes{${NODE}}`,
              legend: '{{node}}',
            },
          ],
        },
        {
          title: 'Replicas by state',
          description: 'Replicas held by each node, by chunk-store state.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `sum by (node, state) (ballast_node_replicas{${NODE}})`,
              legend: '{{node}} {{state}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Disk and data plane',
      panels: [
        {
          title: 'Disk flush latency p50 / p99',
          description: 'Replica flushes: fdatasync of the data file plus the index batch.',
          type: 'timeseries',
          unit: 's',
          queries: quantiles('ballast_node_flush_duration_seconds', NODE, 'node', '{{node}}'),
        },
        {
          title: 'Write request latency p50 / p99',
          description: 'Data-plane writes, from dispatch to the response being queued.',
          type: 'timeseries',
          unit: 's',
          queries: quantiles(
            'ballast_node_request_duration_seconds',
            `${NODE}, op="write"`,
            'node',
            '{{node}}',
          ),
        },
        {
          title: 'Data-plane operations',
          description: 'Reads and writes per second served to engines and peers.',
          type: 'timeseries',
          unit: 'iops',
          queries: [
            {
              expr: `sum by (node) (rate(ballast_node_write_ops_total{${NODE}}[${RATE}]))`,
              legend: '{{node}} write',
            },
            {
              expr: `sum by (node) (rate(ballast_node_read_ops_total{${NODE}}[${RATE}]))`,
              legend: '{{node}} read',
            },
          ],
        },
        {
          title: 'Data-plane throughput',
          description: 'Bytes per second written to and read from replicas.',
          type: 'timeseries',
          unit: 'Bps',
          queries: [
            {
              expr: `sum by (node) (rate(ballast_node_written_bytes_total{${NODE}}[${RATE}]))`,
              legend: '{{node}} written',
            },
            {
              expr: `sum by (node) (rate(ballast_node_read_bytes_total{${NODE}}[${RATE}]))`,
              legend: '{{node}} read',
            },
          ],
        },
        {
          title: 'Data-plane connections',
          description: 'Open data-plane connections (engines and peers).',
          type: 'timeseries',
          unit: 'short',
          queries: [{ expr: `ballast_node_dataplane_connections{${NODE}}`, legend: '{{node}}' }],
        },
      ],
    },
    {
      title: 'Integrity',
      panels: [
        {
          title: 'Checksum errors and repairs',
          description:
            'Blocks that failed their checksum (read, rebuild or scrub) and blocks rewritten from a good copy.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `sum by (node) (increase(ballast_node_checksum_errors_total{${NODE}}[${RATE}]))`,
              legend: '{{node}} checksum errors',
            },
            {
              expr: `sum by (node) (increase(ballast_node_repaired_blocks_total{${NODE}}[${RATE}]))`,
              legend: '{{node}} repaired',
            },
          ],
        },
        {
          title: 'Scrub rate',
          description: 'Bytes per second the background scrub verifies against their checksums.',
          type: 'timeseries',
          unit: 'Bps',
          queries: [
            {
              expr: `sum by (node) (rate(ballast_node_scrubbed_bytes_total{${NODE}}[${RATE}]))`,
              legend: '{{node}}',
            },
          ],
        },
        {
          title: 'Scrub passes and bad blocks',
          description: 'Completed scrub passes over every replica, and bad blocks the scrub found.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            { expr: `ballast_node_scrub_passes_total{${NODE}}`, legend: '{{node}} passes' },
            {
              expr: `sum by (node) (ballast_node_scrub_errors_total{${NODE}})`,
              legend: '{{node}} bad blocks',
            },
          ],
        },
      ],
    },
  ],
};

const MEMBER = 'member=~"$member"';

const raft: DashboardSpec = {
  uid: 'ballast-raft',
  file: 'raft',
  title: 'Ballast / Raft',
  description: 'The metadata service: terms, leader, commits, log fsync latency, leader changes',
  tags: ['ballast'],
  variables: [
    { name: 'member', label: 'Member', metric: 'ballast_raft_term', labelName: 'member' },
  ],
  rows: [
    {
      title: 'Leadership',
      panels: [
        {
          title: 'Term',
          description: 'Raft term per member: a step is an election.',
          type: 'timeseries',
          unit: 'none',
          queries: [{ expr: `ballast_raft_term{${MEMBER}}`, legend: '{{member}}' }],
        },
        {
          title: 'Leader',
          description: '1 while a member is the leader.',
          type: 'timeseries',
          unit: 'none',
          queries: [{ expr: `ballast_raft_is_leader{${MEMBER}}`, legend: '{{member}}' }],
        },
        {
          title: 'Leader changes (1h)',
          description: 'Times each member saw the leader change in the last hour.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `increase(ballast_raft_leader_changes_total{${MEMBER}}[1h])`,
              legend: '{{member}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Log',
      panels: [
        {
          title: 'Commits per second',
          description: 'Growth of the commit index: log entries committed per second.',
          type: 'timeseries',
          unit: 'ops',
          queries: [
            {
              expr: `deriv(ballast_raft_commit_index{${MEMBER}}[${RATE}])`,
              legend: '{{member}}',
            },
          ],
        },
        {
          title: 'Log write (fsync) latency p50 / p99',
          description: 'One batch of log entries made durable (fsync included).',
          type: 'timeseries',
          unit: 's',
          queries: quantiles('ballast_raft_disk_write_seconds', MEMBER, 'member', '{{member}}'),
        },
        {
          title: 'Apply lag',
          description: 'Committed entries not yet applied to the cluster map.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `ballast_raft_commit_index{${MEMBER}} - ballast_raft_applied_index{${MEMBER}}`,
              legend: '{{member}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Transport and API',
      panels: [
        {
          title: 'Peer send queues',
          description: 'Raft messages waiting to be sent to each peer.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            {
              expr: `ballast_raft_peer_queue_messages{${MEMBER}}`,
              legend: '{{member}} to {{peer}}',
            },
          ],
        },
        {
          title: 'Raft traffic',
          description: 'Bytes per second of Raft frames sent to peers.',
          type: 'timeseries',
          unit: 'Bps',
          queries: [
            {
              expr: `sum by (member) (rate(ballast_raft_sent_bytes_total{${MEMBER}}[${RATE}]))`,
              legend: '{{member}}',
            },
          ],
        },
        {
          title: 'API requests',
          description: 'Admin API requests per second, and their p99 latency, per member.',
          type: 'timeseries',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (member) (rate(ballast_meta_http_requests_total{${MEMBER}}[${RATE}]))`,
              legend: '{{member}}',
            },
          ],
        },
        {
          title: 'API latency p99',
          description: 'Time to answer admin API requests (heartbeats, attach, volume changes).',
          type: 'timeseries',
          unit: 's',
          queries: quantiles(
            'ballast_meta_http_request_duration_seconds',
            MEMBER,
            'member',
            '{{member}}',
            [0.99],
          ),
        },
      ],
    },
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [overview, volumeIo, node, raft];
