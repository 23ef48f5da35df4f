// The Ballast web console: one page, five views (#/overview, #/nodes, #/volumes, #/tasks,
// #/events), over the REST API and the watch stream with the token the user gives.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, saveToken, savedToken } from './api.js';
import { Dialog, ExplainDialog, errorText, type DialogSpec } from './dialog.js';
import { ClusterStore, type Snapshot } from './store.js';
import { ago, bytes, clock, duration, percent } from './format.js';
import type {
  ClusterView,
  HostView,
  MapChange,
  MapEvent,
  NodeView,
  TaskView,
  VolumeExplanation,
  VolumeView,
} from './types.js';

const PAGES = [
  { id: 'overview', label: 'Overview' },
  { id: 'nodes', label: 'Nodes' },
  { id: 'volumes', label: 'Volumes' },
  { id: 'tasks', label: 'Tasks' },
  { id: 'events', label: 'Events' },
] as const;
type PageId = (typeof PAGES)[number]['id'];

function pageFromHash(): PageId {
  const id = location.hash.replace(/^#\/?/, '').split('/')[0];
  return PAGES.find((p) => p.id === id)?.id ?? 'overview';
}

interface Notice {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

/** What the page's actions need: the API with the token, the dialog and the notices. */
interface Actions {
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  confirm(spec: DialogSpec): void;
  explain(volume: string): void;
  notify(kind: Notice['kind'], text: string): void;
  refresh(): void;
}

function Login(props: { onToken: (token: string) => void; reason: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(props.reason);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (t === '') return;
    setBusy(true);
    setError(null);
    try {
      await api<ClusterView>(t, 'GET', '/v1/cluster');
      props.onToken(t);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? `Meta refused this token: ${err.message}`
          : errorText(err),
      );
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="card" onSubmit={submit}>
        <h1>Ballast console</h1>
        <p>
          Enter the cluster's admin token (<code>BALLAST_TOKEN</code>; for a dev cluster,{' '}
          <code>token</code> in <code>cluster.json</code>). The join token shows the cluster but may
          not change it. The token stays in this tab only (sessionStorage).
        </p>
        <label class="field">
          <span>API token</span>
          <input
            type="password"
            name="token"
            autocomplete="off"
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        {error !== null ? (
          <p class="dialog-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Open console'}
        </button>
      </form>
    </main>
  );
}

function Badge(props: { value: string; class?: string }) {
  return <span class={`badge state-${props.value} ${props.class ?? ''}`}>{props.value}</span>;
}

function Bar(props: { value: number; label: string; warn?: boolean }) {
  return (
    <div class="bar" title={props.label}>
      <div
        class={`bar-fill ${props.warn ? 'warn' : ''}`}
        style={{ width: `${props.value.toFixed(1)}%` }}
      />
      <span class="bar-label">{props.label}</span>
    </div>
  );
}

type Health = 'healthy' | 'degraded' | 'faulted' | 'unavailable';

function leaderApi(cluster: ClusterView | null): string | undefined {
  return cluster?.members.find((m) => m.id === cluster.leader)?.api;
}

function healthOf(s: Snapshot): { health: Health; problems: string[] } {
  const problems: string[] = [];
  let health: Health = 'healthy';
  const worse = (h: Health) => {
    const order: Health[] = ['healthy', 'degraded', 'faulted', 'unavailable'];
    if (order.indexOf(h) > order.indexOf(health)) health = h;
  };
  if (s.cluster && s.cluster.leader === null) {
    worse('unavailable');
    problems.push('The metadata service has no leader.');
  }
  for (const n of s.nodes) {
    if (n.state === 'down') {
      worse('degraded');
      problems.push(`Node ${n.id} is down: ${n.stateReason}`);
    }
  }
  for (const h of s.hosts ?? []) {
    if (!h.alive && h.attachedVolumes.length > 0) {
      worse('degraded');
      problems.push(
        `Docker host ${h.id} is silent (${duration(h.silentMs)}) and holds ${h.attachedVolumes.join(', ')}`,
      );
    }
  }
  for (const v of s.volumes) {
    if (v.state !== 'healthy') {
      worse(v.state);
      problems.push(`Volume ${v.name} is ${v.state}: ${v.stateReason}`);
    }
    if (v.engine && v.engine.state !== 'recovered') {
      worse('degraded');
      problems.push(`Volume ${v.name}: its engine on ${v.engine.host} is ${v.engine.state}`);
    }
  }
  return { health, problems };
}

function Overview(props: { s: Snapshot; now: number }) {
  const { s, now } = props;
  const { health, problems } = healthOf(s);
  const count = <T,>(items: T[], key: (t: T) => string) => {
    const out: Record<string, number> = {};
    for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
    return out;
  };
  const nodeStates = count(s.nodes, (n) => n.state);
  const volumeStates = count(s.volumes, (v) => v.state);
  const capacity = s.nodes.reduce((a, n) => a + (n.state === 'removed' ? 0 : n.capacityBytes), 0);
  const provisioned = s.nodes.reduce((a, n) => a + (n.provisionedBytes ?? 0), 0);
  const used = s.nodes.reduce((a, n) => a + n.usedBytes, 0);
  const running = s.tasks.filter((t) => t.state === 'running' || t.state === 'pending');
  const attached = s.volumes.filter((v) => v.attachment !== null).length;
  return (
    <section>
      <div class={`health health-${health}`} data-health={health}>
        <strong>Cluster {health}</strong>
        {problems.length === 0 ? (
          <span> — every node up, every volume healthy.</span>
        ) : (
          <ul>
            {problems.slice(0, 12).map((p) => (
              <li key={p}>{p}</li>
            ))}
            {problems.length > 12 ? <li>… and {problems.length - 12} more</li> : null}
          </ul>
        )}
      </div>
      <div class="cards">
        <div class="card">
          <h3>Metadata service</h3>
          <p class="big">{s.cluster?.leader ?? 'no leader'}</p>
          <p>
            leader of {s.cluster?.members.length ?? 0} member(s), term {s.cluster?.term ?? '-'},
            revision {s.revision}
          </p>
          <ul class="plain">
            {(s.cluster?.members ?? []).map((m) => (
              <li key={m.id}>
                {m.id} <span class="muted">{m.api}</span> <Badge value={m.role} />
              </li>
            ))}
          </ul>
        </div>
        <div class="card">
          <h3>Nodes</h3>
          <p class="big">{s.nodes.filter((n) => n.state !== 'removed').length}</p>
          <p>
            {Object.entries(nodeStates).map(([k, v]) => (
              <span key={k} class="count">
                <Badge value={k} /> {v}
              </span>
            ))}
          </p>
        </div>
        <div class="card">
          <h3>Volumes</h3>
          <p class="big">{s.volumes.length}</p>
          <p>
            {Object.entries(volumeStates).map(([k, v]) => (
              <span key={k} class="count">
                <Badge value={k} /> {v}
              </span>
            ))}
          </p>
          <p class="muted">{attached} attached</p>
        </div>
        <div class="card">
          <h3>Capacity</h3>
          <Bar
            value={percent(provisioned, capacity)}
            label={`${bytes(provisioned)} provisioned of ${bytes(capacity)}`}
          />
          <p class="muted">{bytes(used)} written on disk</p>
        </div>
        <div class="card">
          <h3>Docker hosts</h3>
          {s.hosts === null ? (
            <p class="muted">
              Known to the leader only: open the console on {leaderApi(s.cluster) ?? 'the leader'}
              /ui/.
            </p>
          ) : (
            <>
              <p class="big">{s.hosts.length}</p>
              <ul class="plain">
                {s.hosts.map((h) => (
                  <li key={h.id} data-host={h.id}>
                    {h.id} <Badge value={h.alive ? 'alive' : 'dead'} />
                    <span class="muted">
                      {h.attachedVolumes.length} attached, heard {duration(h.silentMs)} ago
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
        <div class="card">
          <h3>Tasks</h3>
          <p class="big">{running.length}</p>
          <p class="muted">running or pending</p>
          {running.slice(0, 4).map((t) => (
            <Bar
              key={t.id}
              value={percent(t.doneBytes, t.totalBytes)}
              label={`${t.kind} ${t.nodeId ?? ''} ${percent(t.doneBytes, t.totalBytes).toFixed(0)}%`}
            />
          ))}
        </div>
      </div>
      <h2>Recent events</h2>
      <EventList events={s.events.slice(0, 8)} volumes={s.volumes} />
      <p class="muted">Lists fetched {ago(s.fetchedAt, now)}.</p>
    </section>
  );
}

function Nodes(props: { s: Snapshot; now: number; actions: Actions }) {
  const { s, actions } = props;
  const nodeAction = (n: NodeView, action: 'cordon' | 'uncordon' | 'drain') => {
    const messages = {
      cordon: `Cordon node ${n.id}? No new replicas will be placed on it; the ${n.replicaCount ?? 0} replica(s) it holds stay.`,
      uncordon: `Uncordon node ${n.id}? New replicas may be placed on it again.`,
      drain: `Drain node ${n.id}? Its ${n.replicaCount ?? 0} replica(s) will be rebuilt on other nodes and removed from it; this copies data and takes time.`,
    };
    actions.confirm({
      title: `${action[0]!.toUpperCase()}${action.slice(1)} node ${n.id}`,
      message: messages[action],
      confirmLabel: action[0]!.toUpperCase() + action.slice(1),
      danger: action === 'drain',
      fields: [{ name: 'reason', label: 'Reason (optional, kept in the map)', initial: '' }],
      run: async (values) => {
        const reason = values.reason?.trim();
        await actions.call('POST', `/v1/nodes/${encodeURIComponent(n.id)}/${action}`, {
          ...(reason ? { reason } : {}),
        });
        const done = { cordon: 'cordoned', uncordon: 'uncordoned', drain: 'draining' }[action];
        actions.notify('ok', `Node ${n.id} ${done}`);
        actions.refresh();
      },
    });
  };
  const nodes = s.nodes.filter((n) => n.state !== 'removed');
  return (
    <section>
      <table class="table" aria-label="Nodes">
        <thead>
          <tr>
            <th>Node</th>
            <th>State</th>
            <th>Zone / host</th>
            <th>Capacity (provisioned)</th>
            <th>Disk</th>
            <th>Replicas</th>
            <th>Heartbeat</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => {
            const silent = n.silentMs ?? null;
            const quiet = n.state !== 'down' && silent !== null && silent > 10_000;
            return (
              <tr key={n.id} data-node={n.id}>
                <td>
                  <strong>{n.id}</strong>
                  <div class="muted">{n.address}</div>
                </td>
                <td>
                  <Badge value={n.state} class="node-state" />
                  {quiet ? <span class="badge state-quiet">silent {duration(silent!)}</span> : null}
                  <div class="muted reason">
                    {n.stateReason} ({ago(n.stateSince, props.now)})
                  </div>
                </td>
                <td>
                  {n.labels.zone ?? '-'} / {n.labels.host ?? '-'}
                </td>
                <td>
                  <Bar
                    value={percent(n.provisionedBytes ?? 0, n.capacityBytes)}
                    label={`${bytes(n.provisionedBytes)} / ${bytes(n.capacityBytes)}`}
                  />
                </td>
                <td>
                  {bytes(n.usedBytes)} used
                  <div class="muted">
                    {n.availableBytes !== undefined ? `${bytes(n.availableBytes)} free` : ''}
                  </div>
                </td>
                <td>{n.replicaCount ?? '-'}</td>
                <td>{silent === null ? '-' : `${duration(silent)} ago`}</td>
                <td class="actions">
                  {n.scheduling === 'active' ? (
                    <button onClick={() => nodeAction(n, 'cordon')}>Cordon</button>
                  ) : (
                    <button onClick={() => nodeAction(n, 'uncordon')}>Uncordon</button>
                  )}
                  {n.scheduling !== 'draining' ? (
                    <button class="danger" onClick={() => nodeAction(n, 'drain')}>
                      Drain
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
          {nodes.length === 0 ? (
            <tr>
              <td colSpan={8} class="muted">
                No storage node has registered.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}

/** Why a volume is not healthy, in the words the map and the engine report give. */
function whyNotHealthy(v: VolumeView, nodes: Map<string, NodeView>): string[] {
  const out: string[] = [];
  if (v.state !== 'healthy') out.push(v.stateReason);
  const inSync = v.replicas.filter((r) => r.role === 'in-sync').length;
  if (inSync < v.desiredReplicas) out.push(`${inSync} of ${v.desiredReplicas} replicas in sync`);
  for (const r of v.replicas) {
    const n = nodes.get(r.nodeId);
    if (n && n.state === 'down') out.push(`replica on ${r.nodeId}: node down`);
  }
  for (const st of v.staleReplicas) out.push(`stale copy on ${st.nodeId}: ${st.reason}`);
  if (v.engine) out.push(`engine on ${v.engine.host} ${v.engine.state}`);
  return [...new Set(out)];
}

function Volumes(props: { s: Snapshot; now: number; actions: Actions }) {
  const { s, actions, now } = props;
  const nodes = useMemo(() => new Map(s.nodes.map((n) => [n.id, n])), [s.nodes]);
  const hostState = (id: string) => {
    const h: HostView | undefined = s.hosts?.find((x) => x.id === id);
    return h === undefined ? null : <Badge value={h.alive ? 'alive' : 'dead'} />;
  };
  const create = () =>
    actions.confirm({
      title: 'Create volume',
      message:
        'Meta places the replicas on nodes in different zones where it can. Sizes take a unit (10GiB, 512MiB).',
      confirmLabel: 'Create',
      fields: [
        { name: 'name', label: 'Name', placeholder: 'pgdata' },
        { name: 'size', label: 'Size', initial: '10GiB' },
        { name: 'replicas', label: 'Replicas', initial: '3' },
        { name: 'fs', label: 'Filesystem', options: ['ext4', 'xfs'] },
      ],
      run: async (values) => {
        const replicas = Number(values.replicas);
        await actions.call('POST', '/v1/volumes', {
          name: values.name?.trim() ?? '',
          size: values.size?.trim() ?? '',
          // Sent as typed when it is no number: meta's answer says what is wrong with it.
          replicas:
            Number.isInteger(replicas) && values.replicas?.trim() !== ''
              ? replicas
              : values.replicas,
          fs: values.fs,
        });
        actions.notify('ok', `Volume ${values.name} created`);
        actions.refresh();
      },
    });
  const resize = (v: VolumeView) =>
    actions.confirm({
      title: `Resize volume ${v.name}`,
      message: `Now ${bytes(v.sizeBytes)}. Volumes only grow; the filesystem grows when the volume is next attached.`,
      confirmLabel: 'Resize',
      fields: [{ name: 'size', label: 'New size', initial: bytes(v.sizeBytes).replace(' ', '') }],
      run: async (values) => {
        await actions.call('PATCH', `/v1/volumes/${encodeURIComponent(v.name)}`, {
          size: values.size?.trim() ?? '',
        });
        actions.notify('ok', `Volume ${v.name} resized to ${values.size}`);
        actions.refresh();
      },
    });
  const remove = (v: VolumeView) =>
    actions.confirm({
      title: `Delete volume ${v.name}`,
      message: `Delete volume ${v.name} and all its data (${bytes(v.sizeBytes)}, ${v.replicas.length} replica(s))? This cannot be undone. Type its name to confirm.`,
      confirmLabel: 'Delete',
      danger: true,
      fields: [{ name: 'confirmName', label: 'Volume name', placeholder: v.name }],
      mustType: { field: 'confirmName', value: v.name },
      run: async () => {
        await actions.call('DELETE', `/v1/volumes/${encodeURIComponent(v.name)}`);
        actions.notify('ok', `Volume ${v.name} deleted`);
        actions.refresh();
      },
    });
  return (
    <section>
      <div class="toolbar">
        <button class="primary" onClick={create}>
          Create volume
        </button>
      </div>
      <table class="table" aria-label="Volumes">
        <thead>
          <tr>
            <th>Volume</th>
            <th>State</th>
            <th>Size</th>
            <th>Replicas</th>
            <th>Attached</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {s.volumes.map((v) => {
            const why = whyNotHealthy(v, nodes);
            return (
              <tr key={v.id} data-volume={v.name}>
                <td>
                  <strong>{v.name}</strong>
                  <div class="muted">
                    {v.fs}, {v.constraints.zoneSpread} spread, created {ago(v.createdAt, now)}
                  </div>
                </td>
                <td>
                  <Badge value={v.state} class="volume-state" />
                  {why.length > 0 ? (
                    <ul class="why">
                      {why.map((w) => (
                        <li key={w}>{w}</li>
                      ))}
                    </ul>
                  ) : null}
                </td>
                <td class="nowrap">{bytes(v.sizeBytes)}</td>
                <td>
                  {v.replicas.map((r) => {
                    const down = nodes.get(r.nodeId)?.state === 'down';
                    return (
                      <span
                        key={r.nodeId}
                        class={`chip ${r.role === 'in-sync' ? 'ok' : 'busy'} ${down ? 'bad' : ''}`}
                        title={`${r.role} since ${clock(r.since)}${r.usedBytes !== undefined ? `, ${bytes(r.usedBytes)} written` : ''}`}
                      >
                        {r.nodeId}
                        {r.role === 'rebuilding' ? ' (rebuilding)' : ''}
                        {down ? ' (down)' : ''}
                      </span>
                    );
                  })}
                  <span class="muted">
                    {' '}
                    {v.replicas.length}/{v.desiredReplicas}
                  </span>
                </td>
                <td>
                  {v.attachment ? (
                    <>
                      <strong>{v.attachment.host}</strong> {hostState(v.attachment.host)}
                      <div class="muted">
                        {v.attachment.mountPath ?? 'raw'}, epoch {v.attachment.epoch}, since{' '}
                        {ago(v.attachment.since, now)}
                      </div>
                    </>
                  ) : (
                    <span class="muted">detached</span>
                  )}
                </td>
                <td class="actions">
                  <button onClick={() => actions.explain(v.name)}>Explain</button>
                  <button onClick={() => resize(v)}>Resize</button>
                  <button class="danger" onClick={() => remove(v)}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
          {s.volumes.length === 0 ? (
            <tr>
              <td colSpan={6} class="muted">
                No volume yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}

function Tasks(props: { s: Snapshot; now: number }) {
  const { s, now } = props;
  const names = new Map(s.volumes.map((v) => [v.id, v.name]));
  const order = { running: 0, pending: 1, failed: 2, cancelled: 3, succeeded: 4 };
  const tasks = [...s.tasks].sort(
    (a, b) => order[a.state] - order[b.state] || b.updatedAt - a.updatedAt,
  );
  const eta = (t: TaskView) =>
    t.state === 'running' && t.bytesPerSecond && t.bytesPerSecond > 0
      ? `, ${duration(((t.totalBytes - t.doneBytes) / t.bytesPerSecond) * 1000)} left`
      : '';
  return (
    <section>
      <table class="table" aria-label="Tasks">
        <thead>
          <tr>
            <th>Task</th>
            <th>State</th>
            <th>Volume</th>
            <th>Node</th>
            <th>Progress</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={t.id} data-task={t.id}>
              <td>
                <strong>{t.kind}</strong>
                <div class="muted">{t.id}</div>
              </td>
              <td>
                <Badge value={t.state} />
                <div class="muted reason">{t.message}</div>
              </td>
              <td>{t.volumeId === null ? '-' : (names.get(t.volumeId) ?? t.volumeId)}</td>
              <td>
                {t.nodeId ?? '-'}
                {t.sourceNodeId ? <div class="muted">from {t.sourceNodeId}</div> : null}
              </td>
              <td>
                <Bar
                  value={percent(t.doneBytes, t.totalBytes)}
                  label={`${percent(t.doneBytes, t.totalBytes).toFixed(0)}% · ${bytes(t.doneBytes)} of ${bytes(t.totalBytes)}${t.bytesPerSecond ? ` · ${bytes(t.bytesPerSecond)}/s` : ''}${eta(t)}`}
                />
              </td>
              <td>{ago(t.updatedAt, now)}</td>
            </tr>
          ))}
          {tasks.length === 0 ? (
            <tr>
              <td colSpan={6} class="muted">
                No task: rebuilds, moves, drains and deletions show here while they run.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}

function describeChange(c: MapChange, volumes: VolumeView[]): string {
  switch (c.kind) {
    case 'node':
      return `node ${c.id}: ${c.value.state} (${c.value.stateReason})`;
    case 'volume':
      return c.value === null
        ? `volume ${volumes.find((v) => v.id === c.id)?.name ?? c.id} deleted`
        : `volume ${c.value.name}: ${c.value.state}${c.value.state === 'healthy' ? '' : ` (${c.value.stateReason})`}, ${c.value.replicas.length} replica(s)${c.value.attachment ? `, attached to ${c.value.attachment.host}` : ''}`;
    case 'task':
      return c.value === null
        ? `task ${c.id} forgotten`
        : `task ${c.value.kind} ${c.id}: ${c.value.state} ${percent(c.value.doneBytes, c.value.totalBytes).toFixed(0)}%`;
    case 'settings':
      return 'settings changed';
  }
}

function EventList(props: { events: MapEvent[]; volumes: VolumeView[] }) {
  if (props.events.length === 0) return <p class="muted">No event received yet.</p>;
  return (
    <table class="table events" aria-label="Events">
      <thead>
        <tr>
          <th>Time</th>
          <th>Revision</th>
          <th>Command</th>
          <th>Changes</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((e) => (
          <tr key={e.revision}>
            <td>{clock(e.at)}</td>
            <td>{e.revision}</td>
            <td>
              <code>{e.command}</code>
            </td>
            <td>
              <ul class="plain">
                {e.changes.map((c, i) => (
                  <li key={i}>{describeChange(c, props.volumes)}</li>
                ))}
              </ul>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Console(props: { token: string; onLogout: (reason: string | null) => void }) {
  const [page, setPage] = useState<PageId>(pageFromHash());
  const [dialog, setDialog] = useState<DialogSpec | null>(null);
  const [explaining, setExplaining] = useState<string | null>(null);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [now, setNow] = useState(Date.now());
  const store = useMemo(
    () => new ClusterStore(props.token, (message) => props.onLogout(message)),
    [props.token],
  );
  const [snapshot, setSnapshot] = useState<Snapshot>(store.snapshot);

  useEffect(() => {
    const unsubscribe = store.subscribe(() => setSnapshot(store.snapshot));
    void store.start();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => {
      unsubscribe();
      store.stop();
      clearInterval(tick);
      window.removeEventListener('hashchange', onHash);
    };
  }, [store]);

  const actions: Actions = {
    call: (method, path, body) => api(props.token, method, path, body),
    confirm: (spec) => setDialog(spec),
    explain: (volume) => setExplaining(volume),
    notify: (kind, text) => {
      const id = Date.now() + Math.random();
      setNotices((n) => [...n, { id, kind, text }].slice(-4));
      setTimeout(
        () => setNotices((n) => n.filter((x) => x.id !== id)),
        kind === 'ok' ? 4000 : 10000,
      );
    },
    refresh: () => void store.refresh(),
  };

  const s = snapshot;
  const counts: Record<PageId, string> = {
    overview: '',
    nodes: String(s.nodes.filter((n) => n.state !== 'removed').length),
    volumes: String(s.volumes.length),
    tasks: String(s.tasks.filter((t) => t.state === 'running' || t.state === 'pending').length),
    events: '',
  };
  const watchLabel = {
    connecting: 'connecting…',
    live: 'live',
    reconnecting: 'reconnecting…',
    polling: 'watch lost: polling',
  }[s.watch];
  return (
    <>
      <header class="top">
        <span class="brand">Ballast</span>
        <nav>
          {PAGES.map((p) => (
            <a key={p.id} href={`#/${p.id}`} class={page === p.id ? 'active' : ''}>
              {p.label}
              {counts[p.id] !== '' ? <span class="pill">{counts[p.id]}</span> : null}
            </a>
          ))}
        </nav>
        <span class={`live live-${s.watch}`} data-watch={s.watch} title="watch stream">
          ● {watchLabel}
        </span>
        <button class="secondary small" onClick={() => props.onLogout(null)}>
          Sign out
        </button>
      </header>
      <main class="content">
        <h1>{PAGES.find((p) => p.id === page)!.label}</h1>
        {s.refreshError !== null ? (
          <p class="banner-error" role="alert">
            Could not refresh: {s.refreshError}
          </p>
        ) : null}
        {!s.loaded ? (
          <p class="muted">Loading…</p>
        ) : page === 'overview' ? (
          <Overview s={s} now={now} />
        ) : page === 'nodes' ? (
          <Nodes s={s} now={now} actions={actions} />
        ) : page === 'volumes' ? (
          <Volumes s={s} now={now} actions={actions} />
        ) : page === 'tasks' ? (
          <Tasks s={s} now={now} />
        ) : (
          <section>
            <p class="muted">
              Map changes as the watch stream delivers them, newest first (the last{' '}
              {s.events.length}).
            </p>
            <EventList events={s.events} volumes={s.volumes} />
          </section>
        )}
      </main>
      <div class="notices" aria-live="polite">
        {notices.map((n) => (
          <div
            key={n.id}
            class={`notice notice-${n.kind}`}
            role={n.kind === 'error' ? 'alert' : 'status'}
          >
            {n.text}
          </div>
        ))}
      </div>
      {dialog !== null ? <Dialog spec={dialog} onClose={() => setDialog(null)} /> : null}
      {explaining !== null ? (
        <ExplainDialog
          name={explaining}
          load={() =>
            api<VolumeExplanation>(
              props.token,
              'GET',
              `/v1/volumes/${encodeURIComponent(explaining)}/explanation`,
            )
          }
          onClose={() => setExplaining(null)}
        />
      ) : null}
    </>
  );
}

function App() {
  const [token, setToken] = useState<string | null>(savedToken());
  const [reason, setReason] = useState<string | null>(null);
  if (token === null) {
    return (
      <Login
        reason={reason}
        onToken={(t) => {
          saveToken(t);
          setReason(null);
          setToken(t);
        }}
      />
    );
  }
  return (
    <Console
      token={token}
      onLogout={(why) => {
        saveToken(null);
        setReason(why === null ? null : `Signed out: ${why}`);
        setToken(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
