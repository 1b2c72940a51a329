// /ops: the platform live, for operators. The first paint comes from GET /api/ops/overview, then
// the `metrics:ops` room sends the figures once a second (merged across nodes, each node, the
// busiest rooms); the 15-minute charts are kept in this tab only. A room view watches one room's
// `metrics:<room>` frames and reads its presence. Everyone else sees why they cannot.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useCallback, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { keys } from "../../api/keys";
import { formatCount } from "../../lib/format";
import { useRoom, type ServerFrame } from "../../realtime";
import { Alert, Button, Card, Empty, ErrorState, layout, Loading, PageHeader, Select, TextField } from "../../ui";
import {
  OPS_ROOM,
  opsOverviewQuery,
  opsRoomQuery,
  opsStatusQuery,
  parseRoomName,
  type OpsFigures,
  type OpsOverview,
  type RoomKind,
} from "./data";
import type { Series } from "./OpsChart";
import { addPoint, clockLabel, formatMs, formatRate, type WindowPoint } from "./window";
import s from "./ops.module.css";

const OpsChart = lazy(() => import("./OpsChart"));

export default function Ops() {
  const status = useQuery(opsStatusQuery);
  if (status.isPending) return <Loading label="Checking your access…" />;
  if (status.isError) {
    return (
      <>
        <PageHeader title="Operations" />
        <ErrorState error={status.error} retry={() => void status.refetch()} />
      </>
    );
  }
  if (!status.data.operator) return <OperatorsOnly />;
  return <Dashboard />;
}

function OperatorsOnly() {
  return (
    <>
      <PageHeader title="Operations" />
      <Alert kind="warn">
        <strong>Operators only.</strong> This page shows the live load of the whole platform, and only
        operators may open it. An administrator grants the role on the server with{" "}
        <code>pitchey operator add EMAIL</code>.
      </Alert>
    </>
  );
}

function Dashboard() {
  const qc = useQueryClient();
  const overview = useQuery(opsOverviewQuery);
  const [live, setLive] = useState<OpsOverview | null>(null);
  const [at, setAt] = useState<number | null>(null);
  const [points, setPoints] = useState<WindowPoint[]>([]);
  const [scope, setScope] = useState("all");
  const onEvent = useCallback(
    (f: ServerFrame) => {
      if (f.type === "metrics") {
        const data = f.data as unknown as OpsOverview;
        const now = Date.now();
        setLive(data);
        setAt(now);
        setPoints((p) => addPoint(p, data.cluster, now));
      } else if (f.type === "error") {
        // Refused or revoked (no longer an operator): ask again, and the page says so.
        void qc.invalidateQueries({ queryKey: keys.ops });
      }
    },
    [qc],
  );
  useRoom(OPS_ROOM, onEvent);

  const data = live ?? overview.data;
  if (!data) {
    if (overview.isError) {
      return (
        <>
          <PageHeader title="Operations" />
          <ErrorState error={overview.error} retry={() => void overview.refetch()} />
        </>
      );
    }
    return <Loading label="Loading the platform's figures…" />;
  }
  const node = data.nodes.find((n) => n.node === scope);
  const shown: OpsFigures = node ?? data.cluster;
  const scopeLabel = node ? `node ${node.node}` : `all ${data.nodes.length === 1 ? "1 node" : `${data.nodes.length} nodes`}`;

  return (
    <div className={layout.stack}>
      <PageHeader title="Operations">
        <span className={s.muted} data-testid="ops-updated">
          {at ? `Live · updated ${clockLabel(at)}` : "Waiting for live figures…"}
        </span>
      </PageHeader>
      <div className={s.scope}>
        <Select
          label="Figures for"
          value={node ? scope : "all"}
          onChange={(e) => setScope(e.target.value)}
          options={[
            { value: "all", label: "All nodes (merged)" },
            ...data.nodes.map((n) => ({ value: n.node, label: `Node ${n.node}` })),
          ]}
        />
      </div>
      <Tiles figures={shown} scope={scopeLabel} />
      <Charts points={points} />
      <Nodes nodes={data.nodes} />
      <RoomSection rooms={data.rooms} />
    </div>
  );
}

function Tile({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Card className={s.tile}>
      <span className={s.tileValue} data-testid={testId}>
        {value}
      </span>
      <span className={s.tileLabel}>{label}</span>
    </Card>
  );
}

function Tiles({ figures: f, scope }: { figures: OpsFigures; scope: string }) {
  return (
    <section aria-labelledby="ops-now">
      <h2 id="ops-now" className={s.sectionTitle}>
        Now, {scope}
      </h2>
      <div className={s.tiles}>
        <Tile testId="ops-rooms" label="Active rooms" value={formatCount(f.activeRooms)} />
        <Tile testId="ops-connections" label="Connections" value={formatCount(f.connections)} />
        <Tile testId="ops-subscribers" label="Subscribers" value={formatCount(f.subscribers)} />
        <Tile testId="ops-events" label="Events per second" value={formatRate(f.eventsPerSec)} />
        <Tile testId="ops-deliveries" label="Deliveries per second" value={formatRate(f.deliveriesPerSec)} />
        <Tile testId="ops-p99" label="Fan-out p99" value={formatMs(f.fanoutP99Ms)} />
        <Tile
          testId="ops-slow"
          label="Slow-consumer closes (since start)"
          value={formatCount(f.slowConsumerClosesTotal)}
        />
        <Tile
          testId="ops-recoveries"
          label="Recoveries: recovered / lost"
          value={`${formatCount(f.recoveredTotal)} / ${formatCount(f.recoveryLostTotal)}`}
        />
      </div>
    </section>
  );
}

const THROUGHPUT: Series[] = [
  { key: "events", name: "Events/s", color: "#6d28d9" },
  { key: "deliveries", name: "Deliveries/s", color: "#db2777", dashed: true },
];
const SESSIONS: Series[] = [
  { key: "connections", name: "Connections", color: "#0e7490" },
  { key: "subscribers", name: "Subscribers", color: "#b45309", dashed: true },
];

function Chart({ title, points, series }: { title: string; points: WindowPoint[]; series: Series[] }) {
  const first = points[0];
  const last = points.at(-1);
  const minutes = first && last ? Math.round((last.t - first.t) / 60000) : 0;
  const span = minutes <= 1 ? "the last minute" : `the last ${minutes} minutes`;
  const summary = first && last
    ? `${title} over ${span}; now ${series
        .map((x) => `${x.name} ${formatRate(last[x.key] ?? 0)}`)
        .join(", ")}.`
    : `${title}: waiting for the first live figures.`;
  return (
    <Card>
      <figure className={s.figure}>
        <h3 className={s.sectionTitle}>{title}</h3>
        <div className={s.chartBox} role="img" aria-label={summary}>
          {points.length > 0 ? (
            <Suspense fallback={<Loading label="Loading chart…" />}>
              <OpsChart points={points} series={series} />
            </Suspense>
          ) : (
            <Empty>The chart starts with the first live figures.</Empty>
          )}
        </div>
        <figcaption className={s.muted}>{summary}</figcaption>
      </figure>
    </Card>
  );
}

function Charts({ points }: { points: WindowPoint[] }) {
  return (
    <section aria-labelledby="ops-window">
      <h2 id="ops-window" className={s.sectionTitle}>
        Last 15 minutes, all nodes
      </h2>
      <p className={s.muted}>Kept in this tab since it opened: a reload starts the window again.</p>
      <div className={s.charts}>
        <Chart title="Throughput" points={points} series={THROUGHPUT} />
        <Chart title="Sessions" points={points} series={SESSIONS} />
      </div>
    </section>
  );
}

function Nodes({ nodes }: { nodes: OpsOverview["nodes"] }) {
  return (
    <section aria-labelledby="ops-nodes">
      <h2 id="ops-nodes" className={s.sectionTitle}>
        Nodes
      </h2>
      {nodes.length === 0 ? (
        <Empty>No node has reported in the last few seconds.</Empty>
      ) : (
        // Focusable: on a phone the table scrolls sideways, and a keyboard must be able to scroll it.
        <div className={layout.tableWrap} tabIndex={0} role="region" aria-label="Nodes (scrolls sideways)">
          <table className={layout.table}>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col">Rooms</th>
                <th scope="col">Connections</th>
                <th scope="col">Subscribers</th>
                <th scope="col">Events/s</th>
                <th scope="col">Deliveries/s</th>
                <th scope="col">p99</th>
                <th scope="col">Slow closes</th>
                <th scope="col">Recovered / lost</th>
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => (
                <tr key={n.node}>
                  <th scope="row">{n.node}</th>
                  <td className={s.num}>{formatCount(n.activeRooms)}</td>
                  <td className={s.num}>{formatCount(n.connections)}</td>
                  <td className={s.num}>{formatCount(n.subscribers)}</td>
                  <td className={s.num}>{formatRate(n.eventsPerSec)}</td>
                  <td className={s.num}>{formatRate(n.deliveriesPerSec)}</td>
                  <td className={s.num}>{formatMs(n.fanoutP99Ms)}</td>
                  <td className={s.num}>{formatCount(n.slowConsumerClosesTotal)}</td>
                  <td className={s.num}>
                    {formatCount(n.recoveredTotal)} / {formatCount(n.recoveryLostTotal)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RoomSection({ rooms }: { rooms: OpsOverview["rooms"] }) {
  const [search, setSearch] = useSearchParams();
  const watched = parseRoomName(search.get("room") ?? "");
  const [text, setText] = useState(search.get("room") ?? "");
  const [error, setError] = useState<string | undefined>();
  const watch = (name: string) => {
    const next = new URLSearchParams(search);
    next.set("room", name);
    setSearch(next, { replace: true });
    setText(name);
    setError(undefined);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const room = parseRoomName(text);
    if (!room) {
      setError("Enter a room as pitch:42, user:7 or project:3.");
      return;
    }
    watch(`${room.kind}:${room.id}`);
  };
  const stop = () => {
    const next = new URLSearchParams(search);
    next.delete("room");
    setSearch(next, { replace: true });
  };
  return (
    <section aria-labelledby="ops-rooms" className={layout.stack}>
      <h2 id="ops-rooms" className={s.sectionTitle}>
        Busiest rooms
      </h2>
      {rooms.length === 0 ? (
        <Empty>No room has subscribers or events right now.</Empty>
      ) : (
        <div className={layout.tableWrap}>
          <table className={layout.table}>
            <thead>
              <tr>
                <th scope="col">Room</th>
                <th scope="col">Subscribers</th>
                <th scope="col">Events/s</th>
                <th scope="col">Nodes</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rooms.map((r) => (
                <tr key={r.room}>
                  <th scope="row">{r.room}</th>
                  <td className={s.num}>{formatCount(r.subscribers)}</td>
                  <td className={s.num}>{formatRate(r.eventsPerSec)}</td>
                  <td className={s.num}>{formatCount(r.nodes)}</td>
                  <td>
                    <Button small variant="secondary" onClick={() => watch(r.room)} aria-label={`Watch room ${r.room}`}>
                      Watch
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Card>
        <h2 className={s.sectionTitle}>Room view</h2>
        <form className={s.roomForm} onSubmit={submit} noValidate>
          <TextField
            label="Room"
            value={text}
            onChange={(e) => setText(e.target.value)}
            error={error}
            hint="pitch:<id>, user:<id> or project:<id>"
            autoComplete="off"
            spellCheck={false}
          />
          <Button type="submit">Watch room</Button>
          {watched && (
            <Button variant="secondary" onClick={stop}>
              Stop watching
            </Button>
          )}
        </form>
        {watched && <RoomView key={`${watched.kind}:${watched.id}`} kind={watched.kind} id={watched.id} />}
      </Card>
    </section>
  );
}

interface RoomFigures {
  subscribers: number;
  eventsInPerSec: number;
  eventsOutPerSec: number;
  droppedFrames: number;
  fanoutLatencyMs: { p50: number | null; p99: number | null; max: number | null };
  nodes?: number | null;
}

function RoomView({ kind, id }: { kind: RoomKind; id: number }) {
  const name = `${kind}:${id}`;
  const [figures, setFigures] = useState<RoomFigures | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const info = useQuery(opsRoomQuery(kind, id));
  const onEvent = useCallback((f: ServerFrame) => {
    if (f.type === "metrics") {
      setFigures(f.data as unknown as RoomFigures);
      setRefused(null);
    } else if (f.type === "error") {
      setRefused(typeof f.data.message === "string" ? f.data.message : "The server refused to show this room.");
    }
  }, []);
  useRoom(`metrics:${name}`, onEvent);
  const presence = info.data?.presence ?? [];
  return (
    <div className={`${layout.stack} ${s.roomView}`} data-testid="ops-room-view">
      <h3 className={s.sectionTitle}>{name}</h3>
      {refused && <Alert>{refused}</Alert>}
      {!refused && !figures && <Loading label="Waiting for the room's figures…" />}
      {figures && (
        <div className={s.tiles}>
          <Tile testId="ops-room-subscribers" label="Live subscribers" value={formatCount(figures.subscribers)} />
          <Tile testId="ops-room-events" label="Events per second" value={formatRate(figures.eventsInPerSec)} />
          <Tile testId="ops-room-deliveries" label="Deliveries per second" value={formatRate(figures.eventsOutPerSec)} />
          <Tile testId="ops-room-p99" label="Fan-out p99" value={formatMs(figures.fanoutLatencyMs.p99)} />
        </div>
      )}
      <h4 className={s.sectionTitle}>Present</h4>
      {info.isPending ? (
        <Loading label="Loading who is present…" />
      ) : info.isError ? (
        <ErrorState error={info.error} retry={() => void info.refetch()} />
      ) : presence.length === 0 ? (
        <Empty>Nobody is in this room.</Empty>
      ) : (
        <ul className={s.presence} data-testid="ops-room-presence">
          {presence.map((p) => (
            <li key={p.userId}>
              <Link to={`/users/${p.userId}`}>User {p.userId}</Link> ({p.userType}),{" "}
              {p.connections === 1 ? "1 connection" : `${formatCount(p.connections)} connections`}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
