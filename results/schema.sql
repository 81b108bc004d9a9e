-- schema.sql: the results database that `triglav-sim run` writes (DESIGN.md §5).
--
-- One row in `runs` per simulation run (scenario x strategy x aggregation x
-- iteration), with exactly one row in `metrics` and its rows in
-- `uplink_results`, `flow_results` and `event_counts`, all written in one
-- transaction: a run is stored whole or not at all. The UNIQUE key of `runs`
-- names a run by what determines its result (scenario content, strategy,
-- aggregation, iteration, seed), so rerunning an interrupted campaign skips
-- exactly the runs already stored, and merging shard databases never
-- duplicates a run. Columns carry their unit in their name: _mbps (Mbit/s,
-- 10^6 bit/s), _ms, _s, _bytes, _pkts; fractions are in [0, 1]. NULL means
-- "did not happen" (a transfer that never completed, a tunnel that never
-- came up). Documented table by table in results/README.md.
--
-- The program embeds this file at build time and applies it to a new, empty
-- database. Changing a table means bumping user_version below and
-- SIM_DB_SCHEMA_VERSION in sim/db.h; databases of another version are refused,
-- except that an older one is upgraded in place when opened for writing: a
-- version 1 database by running the part of this file after the line
-- "-- @version 2", a version 2 one by the part after "-- @version 3", a version 3
-- one by the part after "-- @version 4" (all only add tables).

PRAGMA user_version = 4;

-- A campaign: one `triglav-sim run` command line, identified by `key`, a hash
-- of its plan (each scenario's content hash, strategies, aggregations,
-- iterations and base seed). Running the same command again, or another shard
-- of it, finds the same row.
CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,   -- 16 hex digits
    planned_runs  INTEGER NOT NULL,       -- runs in the whole plan, all shards together
    version       TEXT NOT NULL,          -- triglav-sim version that created the row
    command       TEXT NOT NULL,          -- the command line, shell-quoted
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))  -- UTC
);

-- The scenarios of a campaign's plan, in command-line order, with the
-- strategy and aggregation lists, iteration count and base seed each one
-- was run with (the command line's, else the scenario file's).
CREATE TABLE campaign_scenarios (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,       -- 0, 1, ... in command-line order
    scenario      TEXT NOT NULL,          -- scenario name
    scenario_file TEXT NOT NULL,          -- path as given on the command line
    scenario_hash TEXT NOT NULL,          -- 16 hex digits, hash of the file's bytes
    strategies    TEXT NOT NULL,          -- comma-separated, e.g. 'adaptive,redundant'
    aggregations  TEXT NOT NULL,          -- comma-separated, e.g. 'none,full'
    iterations    INTEGER NOT NULL,
    base_seed     INTEGER NOT NULL,       -- 64-bit seed stored as a signed integer
    PRIMARY KEY (campaign_id, position)
);

-- One simulation run. `campaign_id` is the campaign that first stored it; a
-- later campaign whose plan contains the same run reuses it.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    scenario      TEXT NOT NULL,          -- scenario name
    scenario_file TEXT NOT NULL,          -- path as given on the command line
    scenario_hash TEXT NOT NULL,          -- 16 hex digits, hash of the file's bytes
    strategy      TEXT NOT NULL,          -- adaptive, lowest_latency, ... (core/sched.h)
    aggregation   TEXT NOT NULL,          -- none, full, adaptive
    iteration     INTEGER NOT NULL,       -- 0 .. iterations-1
    seed          INTEGER NOT NULL,       -- the iteration's 64-bit seed as a signed integer;
                                          -- printf('%016x', seed) shows it as hex
    version       TEXT NOT NULL,          -- triglav-sim version, e.g. '0.1.0 (a11ca20)'
    duration_s    REAL NOT NULL,          -- simulated time of the run
    wall_s        REAL NOT NULL,          -- wall-clock time the run took
    sim_events    INTEGER NOT NULL,       -- discrete events executed
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),  -- UTC
    UNIQUE (scenario_hash, strategy, aggregation, iteration, seed)
);
CREATE INDEX runs_campaign ON runs(campaign_id);
CREATE INDEX runs_scenario ON runs(scenario, strategy, aggregation);

-- One row per run: what the run measured, over all flows.
CREATE TABLE metrics (
    run_id              INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    goodput_mbps        REAL,     -- all flows, both directions
    goodput_down_mbps   REAL,     -- outside host -> laptop
    goodput_up_mbps     REAL,     -- laptop -> outside host
    capacity_mbps       REAL,     -- sum of the uplinks' mean capacity in the bulk direction
    efficiency          REAL,     -- bulk-direction goodput / capacity (aggregation efficiency)
    owd_p50_ms          REAL,     -- one-way delay over every delivered packet of every flow
    owd_p95_ms          REAL,
    owd_p99_ms          REAL,
    jitter_ms           REAL,     -- mean RFC 3550 jitter over UDP flows (0 if none)
    loss                REAL,     -- UDP packets lost after the tunnel / sent (0 if no UDP)
    reorder_peak_pkts   INTEGER,  -- largest reorder-buffer occupancy, client and server
    stall_max_ms        REAL,     -- longest delivery gap of any flow
    failovers           INTEGER,  -- scheduler failovers, client + server
    failover_max_ms     REAL,     -- longest delivery gap of one flow overlapping the 2 s after an uplink went down (NULL: none did)
    redundancy_overhead REAL,     -- extra copies: IP bytes sent over all uplinks / IP bytes sent - 1
    defining_events     INTEGER,  -- occurrences of the scenario's defining event
    session_up_ms       REAL,     -- when the tunnel came up (NULL: never)
    packets             INTEGER   -- datagrams through the cores, both directions
);

-- One row per run and uplink. "up" is laptop -> server, "down" the reverse.
CREATE TABLE uplink_results (
    run_id               INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    uplink               INTEGER NOT NULL,  -- index in the scenario, 0 first
    name                 TEXT NOT NULL,
    sent_up_bytes        INTEGER,           -- outer bytes offered to the link
    sent_down_bytes      INTEGER,
    delivered_up_bytes   INTEGER,           -- outer bytes the link delivered
    delivered_down_bytes INTEGER,
    drops_up_pkts        INTEGER,           -- queue overflow + loss + down
    drops_down_pkts      INTEGER,
    capacity_up_mbps     REAL,              -- mean capacity while up
    capacity_down_mbps   REAL,
    down_ms              REAL,              -- time down: outage events, plus >= 1 s with no capacity (trace gaps)
    outages              INTEGER,           -- down periods (events and trace gaps) that started in the run
    PRIMARY KEY (run_id, uplink)
);

-- One row per run and flow (a [[traffic]] entry with count = 3 gives 3 flows).
CREATE TABLE flow_results (
    run_id               INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    flow                 INTEGER NOT NULL,  -- flow id within the run
    kind                 TEXT NOT NULL,     -- tcp, voice, video, keys, web
    cc                   TEXT,              -- cubic, reno, bbr (tcp and web; NULL otherwise)
    direction            TEXT NOT NULL,     -- down (outside host -> laptop) or up
    delivered_bytes      INTEGER,           -- payload bytes delivered to the application
    goodput_mbps         REAL,              -- delivered bytes over the flow's active time
    completion_ms        REAL,              -- sized transfer: start to last byte (NULL: unfinished or unsized)
    owd_p50_ms           REAL,
    owd_p95_ms           REAL,
    owd_p99_ms           REAL,
    jitter_ms            REAL,
    loss                 REAL,              -- UDP: lost / sent; TCP: retransmits / segments sent
    stall_max_ms         REAL,              -- longest gap between deliveries with data outstanding
    retransmits          INTEGER,
    spurious_retransmits INTEGER,
    rto_count            INTEGER,
    objects_done         INTEGER,           -- web objects completed / keystrokes echoed
    PRIMARY KEY (run_id, flow)
);

-- One row per run and scenario event ([[event]] name).
CREATE TABLE event_counts (
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    occurrences  INTEGER NOT NULL,   -- occurrences that started within the run
    total_s      REAL NOT NULL,      -- summed length, clipped to the run
    PRIMARY KEY (run_id, name)
);

-- Each run with its metrics: the usual starting point of a query.
CREATE VIEW run_summary AS
SELECT r.id AS run_id, r.campaign_id, r.scenario, r.strategy, r.aggregation, r.iteration,
       printf('%016x', r.seed) AS seed_hex, r.duration_s, r.wall_s,
       m.goodput_mbps, m.goodput_down_mbps, m.goodput_up_mbps, m.capacity_mbps, m.efficiency,
       m.owd_p50_ms, m.owd_p95_ms, m.owd_p99_ms, m.jitter_ms, m.loss, m.reorder_peak_pkts,
       m.stall_max_ms, m.failovers, m.failover_max_ms, m.redundancy_overhead,
       m.defining_events, m.session_up_ms, m.packets
FROM runs r JOIN metrics m ON m.run_id = r.id;

-- Means (and the worst case where the worst matters) per scenario, strategy
-- and aggregation mode.
CREATE VIEW strategy_summary AS
SELECT r.scenario, r.strategy, r.aggregation, count(*) AS runs,
       avg(m.goodput_mbps) AS goodput_mbps, avg(m.efficiency) AS efficiency,
       avg(m.owd_p95_ms) AS owd_p95_ms, avg(m.loss) AS loss,
       avg(m.stall_max_ms) AS stall_max_ms, max(m.stall_max_ms) AS stall_worst_ms,
       avg(m.redundancy_overhead) AS redundancy_overhead,
       avg(m.defining_events) AS defining_events
FROM runs r JOIN metrics m ON m.run_id = r.id
GROUP BY r.scenario, r.strategy, r.aggregation;

-- Two strategies (or aggregation modes) side by side on the same iteration of
-- the same scenario, i.e. under the same environment draws (common random
-- numbers): compare them pairwise, e.g.
--   SELECT avg(b.goodput_mbps - a.goodput_mbps) FROM paired a JOIN paired b USING (pair)
--   WHERE a.strategy = 'adaptive' AND b.strategy = 'redundant' AND a.aggregation = b.aggregation;
CREATE VIEW paired AS
SELECT r.scenario_hash || ':' || r.iteration || ':' || r.seed AS pair,
       r.scenario, r.iteration, r.strategy, r.aggregation, m.*
FROM runs r JOIN metrics m ON m.run_id = r.id;

-- @version 2: replays (`triglav-sim replay`). Only new tables from here on:
-- this part is also what upgrades a version 1 database.

-- One `triglav-sim replay` run: a packet capture replayed open-loop through
-- one scenario's simulated uplinks; its packets are in `replay_packets`, all
-- written in one transaction. Always injected = delivered + lost.
CREATE TABLE replays (
    id            INTEGER PRIMARY KEY,
    pcap          TEXT NOT NULL,          -- capture path as given on the command line
    scenario      TEXT NOT NULL,          -- scenario name
    scenario_file TEXT NOT NULL,          -- path as given on the command line
    scenario_hash TEXT NOT NULL,          -- 16 hex digits, hash of the file's bytes
    strategy      TEXT NOT NULL,          -- adaptive, lowest_latency, ... (core/sched.h)
    aggregation   TEXT NOT NULL,          -- none, full, adaptive
    seed          INTEGER NOT NULL,       -- the run's 64-bit seed as a signed integer
    direction     TEXT NOT NULL,          -- how directions were chosen: auto, up, down
    local_addr    TEXT,                   -- auto: the address taken as the laptop's (NULL: none)
    uplinks       TEXT NOT NULL,          -- the scenario's uplink names in index order, comma-separated
    frames        INTEGER NOT NULL,       -- records in the capture
    skipped       INTEGER NOT NULL,       -- records that are not IP (ARP, MPLS, ...), not injected
    injected      INTEGER NOT NULL,       -- IP packets of the capture
    delivered     INTEGER NOT NULL,
    lost          INTEGER NOT NULL,       -- injected - delivered
    reordered     INTEGER NOT NULL,       -- delivered after a later-sent packet of their direction
    owd_p50_ms    REAL,                   -- one-way delay of delivered packets (NULL: none delivered)
    owd_p99_ms    REAL,
    session_up_ms REAL,                   -- when the tunnel came up (NULL: never)
    duration_s    REAL NOT NULL,          -- simulated time of the run
    version       TEXT NOT NULL,          -- triglav-sim version
    command       TEXT NOT NULL,          -- the command line, shell-quoted
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))  -- UTC
);

-- One row per IP packet of a replayed capture. Times are simulated time
-- since the run started (the tunnel comes up first: packet 0 is sent at
-- session_up_ms).
CREATE TABLE replay_packets (
    replay_id     INTEGER NOT NULL REFERENCES replays(id) ON DELETE CASCADE,
    packet        INTEGER NOT NULL,       -- index among the capture's IP packets, 0 first
    frame         INTEGER NOT NULL,       -- record number in the file, 1 first (as Wireshark shows)
    direction     TEXT NOT NULL,          -- up (laptop -> outside) or down
    size_bytes    INTEGER NOT NULL,       -- the IP packet as captured
    capture_ms    REAL NOT NULL,          -- capture time since the first IP packet
    sent_ms       REAL,                   -- when it went into the tunnel (NULL: never, e.g. the tunnel never came up)
    delivered_ms  REAL,                   -- when it came out at the far end (NULL: lost)
    owd_ms        REAL,                   -- delivered_ms - sent_ms (NULL: lost)
    uplink        INTEGER,                -- lowest index of the uplinks that carried it (NULL: none)
    uplink_mask   INTEGER NOT NULL,       -- bit i set: uplink i carried a copy (redundant strategies set several)
    reordered     INTEGER NOT NULL,       -- 1: delivered after a later-sent packet of its direction
    lost          INTEGER NOT NULL,       -- 1: never delivered
    lost_reason   TEXT,                   -- NULL if delivered; 'not sent', 'too big', 'refused: ...' (the core's reason), 'network' (dropped on the way or still in flight at the end)
    PRIMARY KEY (replay_id, packet)
);

-- @version 3: time series (`triglav-sim run --series-interval MS`) and
-- parameter sweeps (`triglav-sim run --sweep KEY=V1,V2,...`). Only new
-- tables from here on: this part is also what upgrades a version 2 database.

-- Each uplink of a run, sampled every interval of simulated time. A row
-- describes the interval that ends at t_ms (rates) or the instant t_ms
-- (queues, estimates). "up" is laptop -> server.
CREATE TABLE series_uplinks (
    run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    uplink           INTEGER NOT NULL,  -- index in the scenario, 0 first
    t_ms             REAL NOT NULL,     -- end of the interval, since the run started
    up_mbps          REAL,              -- outer bytes the link delivered in the interval
    down_mbps        REAL,
    share_up         REAL,              -- this uplink's part of the outer bytes sent on all
    share_down       REAL,              -- uplinks that way in the interval (NULL: none sent)
    queue_up_bytes   INTEGER,           -- link queue at t_ms
    queue_down_bytes INTEGER,
    owd_up_ms        REAL,              -- one-way delay the client's estimator holds (NULL: none yet)
    owd_down_ms      REAL,              -- ... the server's, for the other direction
    srtt_ms          REAL,              -- client's smoothed RTT (NULL: none yet)
    rate_est_up_mbps   REAL,            -- delivery-rate estimates the schedulers go by:
    rate_est_down_mbps REAL,            -- the client's (up) and the server's (down)
    drops_pkts       INTEGER,           -- packets the link dropped in the interval, both ways
    health           TEXT,              -- client's view: unknown, healthy, degraded, unhealthy, down
    PRIMARY KEY (run_id, uplink, t_ms)
);

-- Each flow of a run, sampled as series_uplinks.
CREATE TABLE series_flows (
    run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    flow             INTEGER NOT NULL,  -- flow id within the run (flow_results.flow)
    t_ms             REAL NOT NULL,
    goodput_mbps     REAL,              -- application bytes delivered in the interval
    owd_ms           REAL,              -- mean one-way delay of what was delivered (NULL: nothing)
    cwnd_bytes       REAL,              -- TCP/web sender's congestion window at t_ms (NULL: not TCP)
    inflight_bytes   INTEGER,           -- TCP/web bytes in flight at t_ms
    retransmits      INTEGER,           -- TCP retransmissions in the interval
    PRIMARY KEY (run_id, flow, t_ms)
);

-- The tunnel (client and server cores together), sampled as series_uplinks.
CREATE TABLE series_tunnel (
    run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    t_ms               REAL NOT NULL,
    reorder_peak_pkts  INTEGER,         -- reorder-buffer peak so far (the cores expose no more)
    retransmitted_pkts INTEGER,         -- packets the tunnel sent again after a NACK, in the interval
    nacks              INTEGER,         -- NACK frames sent in the interval
    late_drops_pkts    INTEGER,         -- packets that came after the reorder buffer gave up
    PRIMARY KEY (run_id, t_ms)
);

-- The swept value a run was made with (`--sweep KEY=V1,V2,...`): the run's
-- scenario is the file with KEY set to value, so its scenario_hash differs
-- per value while its seeds (from the scenario's name) are the same.
CREATE TABLE sweeps (
    run_id        INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,        -- as given, e.g. 'uplink.path2.delay'
    value         TEXT NOT NULL,        -- as given, e.g. '50ms'
    position      INTEGER NOT NULL      -- index of the value in the list, 0 first (plot order)
);
CREATE INDEX sweeps_key ON sweeps(key, position);

-- @version 4: live runs (`triglav-sim live record`, called by the testnet,
-- scripts/testnet.sh). Only new tables from here on: this part is also what
-- upgrades a version 3 database.

-- One run of the live programs (`triglav server`, `triglav tun`) through the
-- emulator (`triglav-sim emulate`) with the environment of one iteration. Its
-- key is a simulated run's key, so `report --fidelity` pairs the two; a live
-- run is kept apart from `runs` so that nothing which summarises simulated
-- runs (views, reports, merges of shards) ever mixes in a measurement.
-- What the testnet can measure, and how, is in sim/README.md; a column it
-- could not measure is NULL.
CREATE TABLE live_runs (
    id            INTEGER PRIMARY KEY,
    scenario      TEXT NOT NULL,          -- scenario name
    scenario_file TEXT NOT NULL,          -- path as given
    scenario_hash TEXT NOT NULL,          -- 16 hex digits, hash of the file's bytes
    strategy      TEXT NOT NULL,          -- what both live ends ran with
    aggregation   TEXT NOT NULL,
    iteration     INTEGER NOT NULL,       -- the emulator's --iteration
    seed          INTEGER NOT NULL,       -- that iteration's seed, as in runs.seed
    version       TEXT NOT NULL,          -- triglav-sim version that stored it
    duration_s    REAL NOT NULL,          -- wall-clock time the traffic ran
    goodput_mbps  REAL,                   -- bulk TCP flows together (application bytes)
    owd_p50_ms    REAL,                   -- one-way delay of the voice flow's datagrams
    owd_p95_ms    REAL,
    owd_p99_ms    REAL,
    loss          REAL,                   -- voice datagrams lost / sent
    session_up_ms REAL,                   -- tunnel up after the client started (NULL: not measured)
    method        TEXT,                   -- how it was measured, for people (tools, probe)
    created       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),  -- UTC
    UNIQUE (scenario_hash, strategy, aggregation, iteration, seed)
);
